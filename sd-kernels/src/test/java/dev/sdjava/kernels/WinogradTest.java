package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Winograd paths of {@link VectorKernels#conv2d} (3x3, stride 1, padding 1) against their scalar twin, the
 * direct convolution. Winograd rounds differently: F(2x2, 3x3) adds up to 4 input values, halves weights and adds
 * 9 products back, all terms of the same magnitude as the direct sum's, so its error is of the order of the
 * direct convolution's own; F(4x4, 3x3) scales by up to 8 and 1/15 in its transforms and rounds several times
 * more. The tests bound both against the exact result (Naive, in double).
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

    /**
     * Outputs are O(1) sums of in·9 terms of size ~1/sqrt(in·9): 1e-5 absolute is ~100 float roundings. F(4x4, 3x3)
     * rounds several times more (see the measured test below).
     */
    private static double absoluteTolerance(int h, int w) {
        return Winograd.transformsFor(h, w) == WinogradF4.INSTANCE ? 4e-5 : 1e-5;
    }

    @Property(tries = 20)
    void matchesTheDirectConvolution(@ForAll @IntRange(min = 32, max = 70) int in, @ForAll @IntRange(min = 1, max = 110) int out,
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
            if (!Winograd.suits((ConvRows) cw, batch, h, w, 1, 1, 1, h, w)) {
                return; // too few tiles for Winograd: the implicit GEMM's own tests cover it
            }
            float[] want = new float[batch * out * h * w], got = new float[want.length + 7];
            SCALAR.conv2d(x, batch, h, w, SCALAR.prepareConv(wt, bt), 1, 1, 1, h, w, want);
            VECTOR.conv2d(x, batch, h, w, cw, 1, 1, 1, h, w, got);
            double worst = Naive.worst(got, want, want.length, absoluteTolerance(h, w), 1e-4);
            assertTrue(worst <= 1, "winograd vs direct: error " + worst + " times the tolerance");
            for (int i = want.length; i < got.length; i++) {
                assertTrue(got[i] == 0, "conv wrote past its output");
            }
        }
    }

    /** Which convolutions Winograd takes: 16x16 images and up, whatever the batch (see suits), F(4x4) from 29x29. */
    @Test
    void takesImagesOf16x16AndUpWhateverTheBatch() {
        assertEquals(WinogradF2.INSTANCE, Winograd.transformsFor(16, 16));
        assertEquals(WinogradF2.INSTANCE, Winograd.transformsFor(28, 32));
        assertEquals(WinogradF4.INSTANCE, Winograd.transformsFor(29, 29));
        assertEquals(WinogradF4.INSTANCE, Winograd.transformsFor(64, 64));
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(3);
            var cw = (ConvRows) VECTOR.prepareConv(tensor(arena, DType.F16, weights(rnd, 40, 36), 40, 36, 3, 3), null);
            for (int batch : new int[]{1, 2, 5}) {
                assertTrue(Winograd.suits(cw, batch, 16, 16, 1, 1, 1, 16, 16));
                assertTrue(Winograd.suits(cw, batch, 15, 17, 1, 1, 1, 15, 17));
                assertFalse(Winograd.suits(cw, batch, 14, 16, 1, 1, 1, 14, 16));
                assertFalse(Winograd.suits(cw, batch, 32, 32, 2, 1, 1, 16, 16));
            }
            // Any number of output channels (the VAE's last conv has 3), but at least 32 input channels.
            var few = (ConvRows) VECTOR.prepareConv(tensor(arena, DType.F16, weights(rnd, 3, 32), 3, 32, 3, 3), null);
            assertTrue(Winograd.suits(few, 1, 512, 512, 1, 1, 1, 512, 512));
            var shallow = (ConvRows) VECTOR.prepareConv(tensor(arena, DType.F16, weights(rnd, 64, 31), 64, 31, 3, 3), null);
            assertFalse(Winograd.suits(shallow, 1, 64, 64, 1, 1, 1, 64, 64));
        }
    }

    /**
     * With many channels and few tiles U does not fit one block and the work is ordered by output-channel blocks
     * over a whole V (the U-Net's 32x32 level at batch 1); each output must still be the same sequence of operations as when
     * its channel is computed alone (in the order the property above checks against the scalar twin): bit for bit,
     * with either tile size.
     */
    @Property(tries = 2)
    void blockingOrderNeverChangesAnOutput(@ForAll("sides") int h) {
        assertChannelBlocksComputeAsAlone(h, 600, 500);
    }

    /**
     * Five blocks of U and a V over its 72 MB budget (15 panels of 600 channels): the weights are transformed
     * per group of panels (13, then 2), as for 1920 -> 640 at 48x48; still bit for bit as each channel alone.
     */
    @Test
    void panelGroupsNeverChangeAnOutput() {
        assertChannelBlocksComputeAsAlone(120, 600, 800);
    }

    /** The conv of {@code out} channels against the same conv run 100 channels at a time (each one block of U). */
    private static void assertChannelBlocksComputeAsAlone(int h, int in, int out) {
        Random rnd = new Random(5);
        int batch = 1, w = h, plane = h * w;
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

    @Provide
    Arbitrary<Integer> sides() {
        return Arbitraries.of(16, 32); // F(2x2, 3x3), F(4x4, 3x3)
    }

    /**
     * The error measured at a U-Net-like shape (320 -> 64 channels, F32), rel L2 against the exact result: the
     * scalar direct convolution 1.2e-6 (one float sum of 2880 terms per output; Winograd's are sums of 320, over
     * the input channels), F(2x2, 3x3) at 28x28 3.8e-7, F(4x4, 3x3) at 32x32 1.7e-6 (2.6e-6 with the textbook points 0, ±1,
     * ±2). The bounds are 2.6x and 3x the measured values: inside the network goldens' 1e-5, and they fail if a
     * transform's rounding grows by a few times.
     */
    @Test
    void errorAgainstTheExactResultIsMeasuredAndBounded() {
        checkError(28, WinogradF2.INSTANCE, 1e-6);
        checkError(32, WinogradF4.INSTANCE, 5e-6);
    }

    private static void checkError(int side, Winograd.Transforms expected, double bound) {
        Random rnd = new Random(7);
        int in = 320, out = 64, h = side, w = side;
        assertEquals(expected, Winograd.transformsFor(h, w));
        float[] x = Naive.random(rnd, in * h * w), wv = weights(rnd, out, in), b = Naive.random(rnd, out);
        try (Arena arena = Arena.ofConfined()) {
            Tensor wt = Tensor.ofFloats(arena, wv, out, in, 3, 3), bt = Tensor.ofFloats(arena, b, out);
            float[] exact = Naive.conv(x, 1, in, h, w, wv, b, out, 3, 3, 1, 1, 1, h, w);
            float[] direct = new float[exact.length], winograd = new float[exact.length];
            SCALAR.conv2d(x, 1, h, w, SCALAR.prepareConv(wt, bt), 1, 1, 1, h, w, direct);
            VECTOR.conv2d(x, 1, h, w, VECTOR.prepareConv(wt, bt), 1, 1, 1, h, w, winograd);
            double e = relL2(winograd, exact), d = relL2(direct, exact);
            System.out.printf("%dx%d: winograd rel L2 %.2e, direct %.2e, winograd vs direct %.2e%n", h, w, e, d,
                    relL2(winograd, direct));
            assertTrue(e < bound, side + "x" + side + ": winograd rel L2 " + e + " (direct " + d + ")");
        }
    }

    /**
     * Images wider than a panel of tiles (NR = 64): a tile row is split between two panels, so a segment starts
     * mid-row and the border columns of both transforms are exercised away from column 0, with either tile size.
     */
    @Test
    void tileRowsSplitBetweenPanelsMatchTheDirectConvolution() {
        assertMatchesTheDirectConvolution(new Random(13), new int[][]{{1, 33, 40, 9, 301}, {2, 36, 34, 5, 283}, {1, 35, 38, 4, 201}});
        assertEquals(WinogradF4.INSTANCE, Winograd.transformsFor(9, 301));
        assertEquals(WinogradF2.INSTANCE, Winograd.transformsFor(4, 201));
    }

    /** More input channels than one K block of the products ({@link Gemm#DEEP_KC}): two and three blocks. */
    @Test
    void channelsDeeperThanOneBlockMatchTheDirectConvolution() {
        assertMatchesTheDirectConvolution(new Random(17), new int[][]{{2, 700, 13, 32, 32}, {1, 1300, 7, 16, 16}});
    }

    /** Each {batch, in, out, h, w}, which Winograd must take, against the scalar direct convolution. */
    private static void assertMatchesTheDirectConvolution(Random rnd, int[][] shapes) {
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int batch = s[0], in = s[1], out = s[2], h = s[3], w = s[4];
                float[] x = Naive.random(rnd, batch * in * h * w);
                Tensor wt = Tensor.ofFloats(arena, weights(rnd, out, in), out, in, 3, 3);
                Tensor bt = Tensor.ofFloats(arena, Naive.random(rnd, out), out);
                ConvWeights cw = VECTOR.prepareConv(wt, bt);
                assertTrue(Winograd.suits((ConvRows) cw, batch, h, w, 1, 1, 1, h, w), h + "x" + w);
                float[] want = new float[batch * out * h * w], got = new float[want.length];
                SCALAR.conv2d(x, batch, h, w, SCALAR.prepareConv(wt, bt), 1, 1, 1, h, w, want);
                VECTOR.conv2d(x, batch, h, w, cw, 1, 1, 1, h, w, got);
                double worst = Naive.worst(got, want, want.length, absoluteTolerance(h, w), 1e-4);
                assertTrue(worst <= 1, in + " x " + h + "x" + w + ": error " + worst + " times the tolerance");
            }
        }
    }

    /**
     * Odd sizes, batches whose panels span images, and both orders of work for U over the budget (V whole, V per
     * panel), with either tile size.
     */
    @Test
    void oneThreadAndAllThreadsGiveIdenticalResults() {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 40, 36, 32, 32}, {2, 33, 70, 31, 33}, {1, 530, 520, 32, 31}, {1, 530, 520, 64, 64},
                {2, 33, 70, 17, 19}, {1, 530, 520, 16, 16}, {1, 300, 200, 24, 24}};
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
