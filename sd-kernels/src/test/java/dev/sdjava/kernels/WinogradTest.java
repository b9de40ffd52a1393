package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Winograd path of {@link VectorKernels#conv2d} (3x3, stride 1, padding 1) against its scalar twin, the
 * direct convolution. Winograd rounds differently: its transforms add up to 4 input values, halve weights and
 * add 9 products back, so each output carries a few more roundings than the direct sum does, all on terms of
 * the same magnitude as the direct sum's (no cancellation of large terms). The error is therefore of the order
 * of the direct convolution's own, and the tests bound it against the exact result (Naive, in double).
 */
class WinogradTest {
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    private static Tensor tensor(Arena arena, DType dtype, float[] values, long... shape) {
        Tensor t = Tensor.allocate(arena, dtype, shape);
        for (int i = 0; i < values.length; i++) {
            dtype.writeFloat(t.data(), i, values[i]);
        }
        return t;
    }

    /** Weights scaled as a trained network's are (standard deviation 1/sqrt(fan-in)), so outputs are O(1). */
    private static float[] weights(Random rnd, int out, int in) {
        float[] w = Naive.random(rnd, out * in * 9);
        float s = (float) (1 / Math.sqrt(in * 9.0));
        for (int i = 0; i < w.length; i++) {
            w[i] *= s;
        }
        return w;
    }

    private static double relL2(float[] got, float[] want) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            double d = (double) got[i] - want[i];
            num += d * d;
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }

    @Property(tries = 20)
    void matchesTheDirectConvolution(@ForAll @IntRange(min = 32, max = 70) int in, @ForAll @IntRange(min = 32, max = 110) int out,
                                     @ForAll @IntRange(min = 15, max = 40) int h, @ForAll @IntRange(min = 15, max = 40) int w,
                                     @ForAll @IntRange(min = 1, max = 2) int batch, @ForAll @IntRange(min = 0, max = 2) int type,
                                     @ForAll boolean withBias, @ForAll long seed) {
        Random rnd = new Random(seed);
        DType dtype = new DType[]{DType.F32, DType.F16, DType.BF16}[type];
        float[] x = Naive.random(rnd, batch * in * h * w), b = Naive.random(rnd, out);
        try (Arena arena = Arena.ofConfined()) {
            Tensor wt = tensor(arena, dtype, weights(rnd, out, in), out, in, 3, 3);
            Tensor bt = withBias ? tensor(arena, dtype, b, out) : null;
            ConvWeights cw = VECTOR.prepareConv(wt, bt);
            if (!Winograd.suits((VectorKernels.ConvRows) cw, batch, h, w, 1, 1, 1, h, w)) {
                return; // too few tiles for Winograd: the implicit GEMM's own tests cover it
            }
            float[] want = new float[batch * out * h * w], got = new float[want.length + 7];
            SCALAR.conv2d(x, batch, h, w, SCALAR.prepareConv(wt, bt), 1, 1, 1, h, w, want);
            VECTOR.conv2d(x, batch, h, w, cw, 1, 1, 1, h, w, got);
            // Outputs are O(1) sums of in·9 terms of size ~1/sqrt(in·9): 1e-5 absolute is ~100 float roundings.
            double worst = Naive.worst(got, want, want.length, 1e-5, 1e-4);
            assertTrue(worst <= 1, "winograd vs direct: error " + worst + " times the tolerance");
            for (int i = want.length; i < got.length; i++) {
                assertTrue(got[i] == 0, "conv wrote past its output");
            }
        }
    }

    /** Which convolutions Winograd takes: 16x16 images and up, whatever the batch (see suits). */
    @Test
    void takesImagesOf16x16AndUpWhateverTheBatch() {
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(3);
            var cw = (VectorKernels.ConvRows) VECTOR.prepareConv(tensor(arena, DType.F16, weights(rnd, 40, 36), 40, 36, 3, 3), null);
            for (int batch : new int[]{1, 2, 5}) {
                assertTrue(Winograd.suits(cw, batch, 16, 16, 1, 1, 1, 16, 16));
                assertTrue(Winograd.suits(cw, batch, 15, 17, 1, 1, 1, 15, 17));
                assertFalse(Winograd.suits(cw, batch, 14, 16, 1, 1, 1, 14, 16));
                assertFalse(Winograd.suits(cw, batch, 32, 32, 2, 1, 1, 16, 16));
            }
        }
    }

    /**
     * With many channels and few tiles U does not fit one block and the work is ordered by output-channel blocks
     * over a whole V (the U-Net's 32x32 level at batch 1); each output must still be the same sequence of operations as when
     * its channel is computed alone (in the order the property above checks against the scalar twin): bit for bit.
     */
    @Test
    void blockingOrderNeverChangesAnOutput() {
        Random rnd = new Random(5);
        int batch = 1, in = 600, out = 500, h = 32, w = 32, plane = h * w;
        float[] x = Naive.random(rnd, batch * in * plane), wv = weights(rnd, out, in), b = Naive.random(rnd, out);
        try (Arena arena = Arena.ofConfined()) {
            float[] whole = new float[batch * out * plane];
            VECTOR.conv2d(x, batch, h, w, VECTOR.prepareConv(Tensor.ofFloats(arena, wv, out, in, 3, 3),
                    Tensor.ofFloats(arena, b, out)), 1, 1, 1, h, w, whole);
            for (int o0 = 0; o0 < out; o0 += 100) {
                float[] ws = java.util.Arrays.copyOfRange(wv, o0 * in * 9, (o0 + 100) * in * 9);
                float[] bs = java.util.Arrays.copyOfRange(b, o0, o0 + 100), part = new float[batch * 100 * plane];
                VECTOR.conv2d(x, batch, h, w, VECTOR.prepareConv(Tensor.ofFloats(arena, ws, 100, in, 3, 3),
                        Tensor.ofFloats(arena, bs, 100)), 1, 1, 1, h, w, part);
                for (int n = 0; n < batch; n++) {
                    float[] want = java.util.Arrays.copyOfRange(part, n * 100 * plane, (n + 1) * 100 * plane);
                    float[] got = java.util.Arrays.copyOfRange(whole, (n * out + o0) * plane, (n * out + o0 + 100) * plane);
                    assertArrayEquals(want, got, "channels " + o0 + ".. of image " + n);
                }
            }
        }
    }

    /**
     * The error measured at a U-Net-like shape (320 -> 64 channels, 32x32, F32), rel L2 against the exact result:
     * Winograd 4.0e-7, the scalar direct convolution 1.2e-6 (one long float sum per output; Winograd's are
     * shorter sums over KC blocks), Winograd vs direct 1.2e-6. The bound is 1e-6, 2.5x the measured value:
     * well inside the network goldens' 1e-5, and it fails if the transform's rounding grows by an order of
     * magnitude (as larger tiles such as F(4x4, 3x3) would).
     */
    @Test
    void errorAgainstTheExactResultIsMeasuredAndBounded() {
        Random rnd = new Random(7);
        int in = 320, out = 64, h = 32, w = 32;
        float[] x = Naive.random(rnd, in * h * w), wv = weights(rnd, out, in), b = Naive.random(rnd, out);
        try (Arena arena = Arena.ofConfined()) {
            Tensor wt = Tensor.ofFloats(arena, wv, out, in, 3, 3), bt = Tensor.ofFloats(arena, b, out);
            float[] exact = Naive.conv(x, 1, in, h, w, wv, b, out, 3, 3, 1, 1, 1, h, w);
            float[] direct = new float[exact.length], winograd = new float[exact.length];
            SCALAR.conv2d(x, 1, h, w, SCALAR.prepareConv(wt, bt), 1, 1, 1, h, w, direct);
            VECTOR.conv2d(x, 1, h, w, VECTOR.prepareConv(wt, bt), 1, 1, 1, h, w, winograd);
            double e = relL2(winograd, exact), d = relL2(direct, exact);
            System.out.printf("winograd rel L2 %.2e, direct %.2e, winograd vs direct %.2e%n", e, d, relL2(winograd, direct));
            assertTrue(e < 1e-6, "winograd rel L2 " + e + " (direct " + d + ")");
        }
    }

    /** Odd sizes, batches whose panels span images, and both orders of work for U over the budget (V whole, V per panel). */
    @Test
    void oneThreadAndAllThreadsGiveIdenticalResults() {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 40, 36, 32, 32}, {2, 33, 70, 31, 33}, {1, 530, 520, 32, 31}, {1, 530, 520, 64, 64}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int batch = s[0], in = s[1], out = s[2], h = s[3], w = s[4];
                float[] x = Naive.random(rnd, batch * in * h * w);
                ConvWeights cw = VECTOR.prepareConv(Tensor.ofFloats(arena, weights(rnd, out, in), out, in, 3, 3),
                        Tensor.ofFloats(arena, Naive.random(rnd, out), out));
                float[] one = new float[batch * out * h * w], all = new float[one.length];
                Parallel.serially(() -> VECTOR.conv2d(x, batch, h, w, cw, 1, 1, 1, h, w, one));
                VECTOR.conv2d(x, batch, h, w, cw, 1, 1, 1, h, w, all);
                assertArrayEquals(one, all);
            }
        }
    }
}
