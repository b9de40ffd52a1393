package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.TestData;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/** The golden set (testdata/golden, README §5, §9): the models, the case tensors, and the comparison the tolerances describe. */
final class Goldens {
    /** README §9: one U-Net call or VAE pass in fp32. */
    static final double MAX_ABS = 1e-4;
    static final double REL_L2 = 1e-5;
    /** tolerances.json fp16_single_file_as_fp32 measured 1.5e-3 (U-Net) and 1.4e-3 (VAE). */
    static final double FP16_REL_L2 = 4e-3;
    /** Times the largest |value| of the reference: F16 weights err in proportion to the activations (measured ≤ 4e-3). */
    static final double FP16_MAX_ABS_OF_RANGE = 1e-2;

    private Goldens() {
    }

    /** A model as the tests load it, with the tolerance its goldens hold to. */
    enum Source {
        SD1_FOLDER("tiny-sd1", "tiny-sd1", MAX_ABS, REL_L2),
        SD2V_FOLDER("tiny-sd2v", "tiny-sd2v", MAX_ABS, REL_L2),
        /** Stored in F16: differs from the F32 goldens by the weights' rounding (README §9). */
        SD1_SINGLE_FILE_F16("tiny-sd1", "tiny-sd1.safetensors", -FP16_MAX_ABS_OF_RANGE, FP16_REL_L2),
        /** The same F32 weights as the folder, in the original layout. */
        SD2V_SINGLE_FILE("tiny-sd2v", "tiny-sd2v.safetensors", MAX_ABS, REL_L2);

        private static final Map<Source, Checkpoint> OPEN = new ConcurrentHashMap<>();

        /** The name of the model's case folder, {@code cases/<model>}. */
        final String model;
        final String path;
        /** Absolute when positive; when negative, its magnitude times the reference's largest |value|. */
        final double maxAbs;
        final double relL2;

        Source(String model, String path, double maxAbs, double relL2) {
            this.model = model;
            this.path = path;
            this.maxAbs = maxAbs;
            this.relL2 = relL2;
        }

        /** Opened once and kept open for the test run (the networks are loaded from it by several tests). */
        Checkpoint checkpoint() {
            return OPEN.computeIfAbsent(this, s -> s.path.endsWith(".safetensors")
                    ? Checkpoint.open(TestData.model(s.path), TestData.singleFileOptions())
                    : Checkpoint.open(TestData.model(s.path)));
        }

        void assertClose(String what, float[] expected, float[] actual) {
            double range = 0;
            for (float v : expected) {
                range = Math.max(range, Math.abs(v));
            }
            Goldens.assertClose(this + " " + what, expected, actual, maxAbs > 0 ? maxAbs : -maxAbs * range, relL2);
        }
    }

    /** Every tensor of a case file ({@code cases/<model>/<name>.safetensors}), widened to float. */
    static Map<String, float[]> caseTensors(String model, String name) {
        Map<String, float[]> out = new HashMap<>();
        try (SafeTensors st = SafeTensors.open(TestData.cases(model).resolve(name + ".safetensors"))) {
            for (String n : st.names()) {
                Tensor t = st.tensor(n);
                out.put(n, t.toFloatArray());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** {@code n} draws of N(0, 1): inputs for the tests that run a network without a case tensor to start from. */
    static float[] gaussian(Random random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /** Max abs difference ≤ maxAbs and ‖actual − expected‖ / ‖expected‖ ≤ relL2 over all of {@code expected}. */
    static void assertClose(String what, float[] expected, float[] actual, double maxAbs, double relL2) {
        assertTrue(actual.length >= expected.length, what + ": " + actual.length + " values, expected " + expected.length);
        double worst = 0;
        double diff2 = 0;
        double ref2 = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (!(d <= worst)) { // also catches NaN
                worst = d;
                worstAt = i;
            }
            diff2 += d * d;
            ref2 += (double) expected[i] * expected[i];
        }
        double rel = Math.sqrt(diff2 / ref2);
        String report = String.format("%s: max abs %.3g at %d (expected %s, got %s), rel L2 %.3g",
                what, worst, worstAt, expected[worstAt], actual[worstAt], rel);
        assertTrue(worst <= maxAbs && rel <= relL2, report + " (limits " + maxAbs + ", " + relL2 + ")");
    }
}
