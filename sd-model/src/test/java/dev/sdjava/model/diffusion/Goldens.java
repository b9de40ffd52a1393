package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.Weights;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** The golden set (testdata/golden, README §5, §9): model weights, case tensors, and the comparison the tolerances describe. */
final class Goldens {
    /** README §9: one U-Net call or VAE pass in fp32. */
    static final double MAX_ABS = 1e-4;
    static final double REL_L2 = 1e-5;
    /** tolerances.json fp16_single_file_as_fp32 measured 1.5e-3 (U-Net) and 1.4e-3 (VAE). */
    static final double FP16_REL_L2 = 4e-3;

    private Goldens() {
    }

    static Path root() {
        String dir = System.getProperty("sd.testdata");
        if (dir == null) {
            throw new IllegalStateException("system property sd.testdata is not set (run the tests through ./sd test)");
        }
        return Path.of(dir, "golden");
    }

    /** A component of a diffusers folder, e.g. {@code ("tiny-sd1", "unet")}, as {@link Weights}. Tensors are read into the heap. */
    static Weights folder(String model, String component) {
        return read(root().resolve("models").resolve(model).resolve(component).resolve("diffusion_pytorch_model.safetensors"));
    }

    /** Every tensor of a case file ({@code cases/<model>/<name>.safetensors}), widened to float. */
    static Map<String, float[]> caseTensors(String model, String name) {
        Weights w = read(root().resolve("cases").resolve(model).resolve(name + ".safetensors"));
        Map<String, float[]> out = new HashMap<>();
        for (String n : w.names()) {
            out.put(n, w.get(n).toFloatArray());
        }
        return out;
    }

    /** A file's tensors copied to the heap, so that nothing stays mapped after the test. */
    private static Weights read(Path file) {
        Map<String, Tensor> tensors = new HashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String name : st.names()) {
                Tensor t = st.tensor(name);
                tensors.put(name, new Tensor(t.dtype(), t.shape(), Arena.ofAuto().allocate(t.byteSize(), 8)
                        .copyFrom(t.data())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Weights() {
            @Override
            public Tensor get(String name) {
                Tensor t = tensors.get(name);
                if (t == null) {
                    throw new IllegalArgumentException(file + " has no tensor " + name);
                }
                return t;
            }

            @Override
            public boolean contains(String name) {
                return tensors.containsKey(name);
            }

            @Override
            public Set<String> names() {
                return tensors.keySet();
            }
        };
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
