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
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each Vector API kernel against its scalar twin on random shapes, awkward ones included: sizes of 1, odd
 * and prime sizes, fewer elements than one vector, and sizes that cross the block boundaries (NR-wide
 * panels, 6-row tiles, KC-deep K blocks, 256-pixel convolution blocks, 96-key attention blocks).
 */
class VectorKernelsTest {
    private static final ScalarKernels SCALAR = new ScalarKernels();
    private static final VectorKernels VECTOR = new VectorKernels();

    private static Tensor weights(Arena arena, DType dtype, float[] values, long... shape) {
        Tensor t = Tensor.allocate(arena, dtype, shape);
        for (int i = 0; i < values.length; i++) {
            dtype.writeFloat(t.data(), i, values[i]);
        }
        return t;
    }

    private static void close(String what, float[] got, float[] want, int n, double atol, double rtol) {
        double w = Naive.worst(got, want, n, atol, rtol);
        assertTrue(w <= 1, what + ": error " + w + " times the tolerance");
    }

    /**
     * Against the scalar twin, and bit for bit against one FMA chain per output from its bias in k order: however
     * the kernel blocks K (up to 1400 inputs: one to three blocks), no sum is regrouped. Weights in a shared arena
     * are packed by the pool's threads, a confined arena's by its owner alone.
     */
    @Property(tries = 40)
    void linearMatchesScalar(@ForAll @IntRange(min = 1, max = 29) int rows, @ForAll @IntRange(min = 1, max = 1400) int in,
                             @ForAll @IntRange(min = 1, max = 150) int out, @ForAll boolean withBias,
                             @ForAll @IntRange(min = 0, max = 2) int type, @ForAll boolean shared, @ForAll long seed) {
        Random rnd = new Random(seed);
        DType dtype = new DType[]{DType.F32, DType.F16, DType.BF16}[type];
        float[] w = Naive.random(rnd, out * in), b = Naive.random(rnd, out), x = Naive.random(rnd, rows * in + 3);
        try (Arena arena = shared ? Arena.ofShared() : Arena.ofConfined()) {
            Tensor wt = weights(arena, dtype, w, out, in), bt = withBias ? weights(arena, dtype, b, out) : null;
            float[] want = new float[rows * out], got = new float[rows * out + 5];
            SCALAR.linear(x, rows, SCALAR.prepareLinear(wt, bt), want);
            VECTOR.linear(x, rows, VECTOR.prepareLinear(wt, bt), got);
            close("linear", got, want, want.length, 1e-4 * Math.sqrt(in), 1e-4);
            assertTrue(got[rows * out] == 0, "linear wrote past its output");
            float[] stored = wt.toFloatArray(), bias = withBias ? bt.toFloatArray() : new float[out];
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    float chain = bias[o];
                    for (int k = 0; k < in; k++) {
                        chain = Math.fma(x[r * in + k], stored[o * in + k], chain);
                    }
                    int row = r, output = o;
                    assertEquals(chain, got[r * out + o], () -> "row " + row + ", output " + output + " of " + rows + " x " + in + " -> " + out);
                }
            }
        }
    }

    /**
     * GEGLU in one pass against its scalar twin, and bit for bit against what it fuses: the two halves through
     * {@code linear}, then gelu and the product.
     */
    @Property(tries = 30)
    void gegluMatchesScalarAndTheTwoPassWay(@ForAll @IntRange(min = 1, max = 200) int rows, @ForAll @IntRange(min = 1, max = 1000) int in,
                                             @ForAll @IntRange(min = 1, max = 150) int n, @ForAll boolean withBias,
                                             @ForAll boolean f16, @ForAll long seed) {
        Random rnd = new Random(seed);
        DType dtype = f16 ? DType.F16 : DType.F32;
        float[] w = Naive.random(rnd, 2 * n * in), b = Naive.random(rnd, 2 * n), x = Naive.random(rnd, rows * in);
        try (Arena arena = Arena.ofConfined()) {
            Tensor wt = weights(arena, dtype, w, 2 * n, in), bt = withBias ? weights(arena, dtype, b, 2 * n) : null;
            Tensor valueW = wt.slice(0, n), gateW = wt.slice(n, 2 * n);
            Tensor valueB = withBias ? bt.slice(0, n) : null, gateB = withBias ? bt.slice(n, 2 * n) : null;
            float[] want = new float[rows * n], got = new float[rows * n + 5];
            SCALAR.geglu(x, rows, SCALAR.prepareLinear(valueW, valueB), SCALAR.prepareLinear(gateW, gateB), want);
            LinearWeights value = VECTOR.prepareLinear(valueW, valueB), gate = VECTOR.prepareLinear(gateW, gateB);
            VECTOR.geglu(x, rows, value, gate, got);
            close("geglu", got, want, want.length, 1e-4 * Math.sqrt(in), 1e-4);
            assertTrue(got[rows * n] == 0, "geglu wrote past its output");
            float[] a = new float[rows * n], g = new float[rows * n];
            VECTOR.linear(x, rows, value, a);
            VECTOR.linear(x, rows, gate, g);
            VECTOR.gelu(g, g.length, g);
            VECTOR.mul(a, g, a.length, a);
            assertArrayEquals(a, Arrays.copyOf(got, rows * n));
        }
    }

    @Test
    void gegluNamesHalvesOfDifferentShapes() {
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(3);
            LinearWeights value = VECTOR.prepareLinear(weights(arena, DType.F32, Naive.random(rnd, 8 * 5), 8, 5), null);
            LinearWeights gate = VECTOR.prepareLinear(weights(arena, DType.F32, Naive.random(rnd, 7 * 5), 7, 5), null);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> VECTOR.geglu(new float[10], 2, value, gate, new float[16]));
            assertTrue(e.getMessage().contains("[8, 5]") && e.getMessage().contains("[7, 5]"), e.getMessage());
        }
    }

    /** 16-bit weights stay 16-bit and are widened per block: exactly what F32 weights of the same values give. */
    @Property(tries = 20)
    void halfWeightsGiveTheSameBitsAsTheirF32Values(@ForAll @IntRange(min = 1, max = 20) int rows,
                                                    @ForAll @IntRange(min = 1, max = 1400) int in,
                                                    @ForAll @IntRange(min = 1, max = 100) int out, @ForAll boolean bf16,
                                                    @ForAll long seed) {
        Random rnd = new Random(seed);
        DType dtype = bf16 ? DType.BF16 : DType.F16;
        float[] w = Naive.random(rnd, out * in * 9), x = Naive.random(rnd, rows * Math.max(in, 5 * in * 4));
        try (Arena arena = Arena.ofConfined()) {
            Tensor half = weights(arena, dtype, java.util.Arrays.copyOf(w, out * in), out, in), wide = Tensor.ofFloats(arena, half.toFloatArray(), out, in);
            float[] a = new float[rows * out], b = new float[rows * out];
            VECTOR.linear(x, rows, VECTOR.prepareLinear(half, null), a);
            VECTOR.linear(x, rows, VECTOR.prepareLinear(wide, null), b);
            assertArrayEquals(b, a);
            Tensor halfConv = weights(arena, dtype, w, out, in, 3, 3);
            Tensor wideConv = Tensor.ofFloats(arena, halfConv.toFloatArray(), out, in, 3, 3);
            float[] c = new float[out * rows * 4], d = new float[c.length];
            VECTOR.conv2d(x, 1, rows, 5, VECTOR.prepareConv(halfConv, null), 2, 1, 1, (rows + 1) / 2, 3, c);
            VECTOR.conv2d(x, 1, rows, 5, VECTOR.prepareConv(wideConv, null), 2, 1, 1, (rows + 1) / 2, 3, d);
            assertArrayEquals(d, c);
        }
    }

    /**
     * Convolution weights are stored in K blocks (see ConvRows); rows read back as the stored rows in K order,
     * packed by the pool's threads (a shared arena) or by the arena's owner alone (a confined one).
     */
    @Property(tries = 20)
    void convWeightRowsReadBackAsStored(@ForAll @IntRange(min = 1, max = 40) int in, @ForAll @IntRange(min = 1, max = 30) int out,
                                        @ForAll boolean three, @ForAll boolean half, @ForAll boolean shared, @ForAll long seed) {
        int k = three ? 3 : 1, kk = in * k * k;
        float[] w = Naive.random(new Random(seed), out * kk);
        try (Arena arena = shared ? Arena.ofShared() : Arena.ofConfined()) {
            Tensor t = half ? weights(arena, DType.F16, w, out, in, k, k) : Tensor.ofFloats(arena, w, out, in, k, k);
            float[] want = t.toFloatArray(), got = new float[3 * kk];
            ConvRows rows = (ConvRows) VECTOR.prepareConv(t, null);
            // Three channels at a time, the last group ragged where out is not a multiple of 3.
            for (int o0 = 0; o0 < out; o0 += 3) {
                int n = Math.min(3, out - o0);
                rows.rows(o0, n, got, 0);
                for (int i = 0; i < n; i++) {
                    float[] inOrder = new float[kk];
                    for (int j = 0; j < kk; j++) {
                        inOrder[j] = want[(o0 + i) * kk + ConvShape.source(j, in, k * k)];
                    }
                    assertArrayEquals(inOrder, Arrays.copyOfRange(got, i * kk, (i + 1) * kk), "output channel " + (o0 + i));
                }
            }
        }
    }

    @Property(tries = 40)
    void convMatchesScalar(@ForAll @IntRange(min = 1, max = 40) int in, @ForAll @IntRange(min = 1, max = 14) int out,
                           @ForAll @IntRange(min = 1, max = 23) int h, @ForAll @IntRange(min = 1, max = 23) int w,
                           @ForAll boolean three, @ForAll @IntRange(min = 1, max = 2) int stride,
                           @ForAll @IntRange(min = 0, max = 1) int padTop, @ForAll @IntRange(min = 0, max = 1) int padBottom,
                           @ForAll @IntRange(min = 0, max = 1) int padLeft, @ForAll @IntRange(min = 0, max = 1) int padRight,
                           @ForAll @IntRange(min = 1, max = 2) int batch, @ForAll long seed) {
        int k = three ? 3 : 1;
        int oh = (h + padTop + padBottom - k) / stride + 1, ow = (w + padLeft + padRight - k) / stride + 1;
        if (h + padTop + padBottom < k || w + padLeft + padRight < k) {
            return; // the kernel does not fit: no output
        }
        assertConvMatchesScalar("conv", new Random(seed), batch, in, out, h, w, k, stride, padTop, padLeft, oh, ow);
    }

    /**
     * The vector convolution against the scalar one on random weights, bias and input {@code [batch, in, h, w]}
     * (drawn from rnd in that order), within the rounding of sums of in·k·k products.
     */
    private static void assertConvMatchesScalar(String what, Random rnd, int batch, int in, int out, int h, int w, int k,
                                                int stride, int padTop, int padLeft, int oh, int ow) {
        float[] wv = Naive.random(rnd, out * in * k * k), b = Naive.random(rnd, out), x = Naive.random(rnd, batch * in * h * w);
        try (Arena arena = Arena.ofConfined()) {
            Tensor wt = Tensor.ofFloats(arena, wv, out, in, k, k), bt = Tensor.ofFloats(arena, b, out);
            float[] want = new float[batch * out * oh * ow], got = new float[want.length];
            SCALAR.conv2d(x, batch, h, w, SCALAR.prepareConv(wt, bt), stride, padTop, padLeft, oh, ow, want);
            VECTOR.conv2d(x, batch, h, w, VECTOR.prepareConv(wt, bt), stride, padTop, padLeft, oh, ow, got);
            close(what, got, want, want.length, 1e-4 * Math.sqrt(in * k * k), 1e-4);
        }
    }

    /**
     * Stride 2 over rows wide enough for the vector taps ({@code ConvShape.everyOther}: two loads and a shuffle per
     * vector, the last one overlapping, scalar where a vector would read past x): every width from 1 to 80, odd and
     * even, with and without padding, against the scalar convolution.
     */
    @Property(tries = 40)
    void stridedConvMatchesScalarOnWideRows(@ForAll @IntRange(min = 1, max = 80) int w, @ForAll @IntRange(min = 1, max = 4) int h,
                                            @ForAll @IntRange(min = 1, max = 5) int in, @ForAll boolean three,
                                            @ForAll @IntRange(min = 0, max = 1) int pad, @ForAll long seed) {
        int k = three ? 3 : 1;
        if (h + 2 * pad < k || w + 2 * pad < k) {
            return;
        }
        int oh = (h + 2 * pad - k) / 2 + 1, ow = (w + 2 * pad - k) / 2 + 1;
        assertConvMatchesScalar("conv stride 2 @" + h + "x" + w, new Random(seed), 1, in, 3, h, w, k, 2, pad, pad, oh, ow);
    }

    /**
     * More output channels than one block of widened weight rows (MC = 96), each with its own bias, on both orders
     * of the implicit GEMM (by pixel blocks: 1x1 and stride 2 with 48x48 outputs, enough blocks for one task to
     * take every channel; by channels: 8x8): every row block must start from its own channels' bias.
     */
    @Test
    void convWithMoreChannelsThanARowBlockMatchesScalar() {
        Random rnd = new Random(17);
        int[][] shapes = {{20, 200, 8, 3, 1}, {40, 200, 48, 1, 1}, {20, 130, 96, 3, 2}}; // in, out, size, kernel, stride
        for (int[] c : shapes) {
            int in = c[0], out = c[1], size = c[2], k = c[3], stride = c[4], pad = k / 2;
            int o = (size + 2 * pad - k) / stride + 1;
            assertConvMatchesScalar("conv " + in + "->" + out + " k" + k + "/" + stride + " @" + size, rnd, 1, in, out,
                    size, size, k, stride, pad, pad, o, o);
        }
    }

    /**
     * Small images go by K parts (see ImplicitGemm), alone or in a large batch, whose panels are shared
     * out in groups: both must match the scalar reference and give each image the same bits, with one part (9
     * input channels) and with several (350 in a 3x3 conv: 25 K blocks, 2 parts). Outputs of 8x8 fill their
     * panels; of 4x4, 9x9 and 5x5 they lie end to end in a batch, the last two across panel boundaries.
     */
    @Property(tries = 5)
    void convGivesAnImageTheSameBitsAloneAsInALargeBatch(@ForAll boolean three, @ForAll @IntRange(min = 1, max = 2) int stride,
                                                         @ForAll long seed) {
        for (int in : new int[]{9, 350}) {
            for (int size : new int[]{8, 9}) {
                assertImagesAloneAsInABatch(three ? 3 : 1, stride, in, size, new Random(seed));
            }
        }
    }

    private static void assertImagesAloneAsInABatch(int k, int stride, int in, int size, Random rnd) {
        int batch = 160, out = 7, h = size, w = size, pad = k / 2;
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1, image = out * oh * ow;
        float[] x = Naive.random(rnd, batch * in * h * w);
        try (Arena arena = Arena.ofConfined()) {
            Tensor wt = Tensor.ofFloats(arena, Naive.random(rnd, out * in * k * k), out, in, k, k);
            Tensor bt = Tensor.ofFloats(arena, Naive.random(rnd, out), out);
            ConvWeights cw = VECTOR.prepareConv(wt, bt);
            float[] all = new float[batch * image], want = new float[all.length], one = new float[image];
            VECTOR.conv2d(x, batch, h, w, cw, stride, pad, pad, oh, ow, all);
            SCALAR.conv2d(x, batch, h, w, SCALAR.prepareConv(wt, bt), stride, pad, pad, oh, ow, want);
            close("conv, batch " + batch + ", " + in + " in", all, want, all.length, 1e-4 * Math.sqrt(in * k * k), 1e-4);
            for (int b : new int[]{0, 77, batch - 1}) {
                VECTOR.conv2d(Arrays.copyOfRange(x, b * in * h * w, (b + 1) * in * h * w), 1, h, w, cw, stride, pad, pad, oh, ow, one);
                assertArrayEquals(Arrays.copyOfRange(all, b * image, (b + 1) * image), one, "image " + b + ", " + in + " in");
            }
        }
    }

    /**
     * K in many parts, one after another on the same partial-sum buffers: 2560 channels (3x3: 180 K blocks, 15
     * parts of 12), then 2400 (169 blocks: 14 parts would leave the last empty, its stale sums from the call
     * before added in).
     */
    @Test
    void convSumsEveryPartOfALongK() {
        int out = 7, h = 8, w = 8;
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            for (int in : new int[]{2560, 2400}) {
                Tensor wt = Tensor.ofFloats(arena, Naive.random(rnd, out * in * 9), out, in, 3, 3);
                Tensor bt = Tensor.ofFloats(arena, Naive.random(rnd, out), out);
                float[] x = Naive.random(rnd, in * h * w), want = new float[out * h * w], got = new float[want.length];
                SCALAR.conv2d(x, 1, h, w, SCALAR.prepareConv(wt, bt), 1, 1, 1, h, w, want);
                VECTOR.conv2d(x, 1, h, w, VECTOR.prepareConv(wt, bt), 1, 1, 1, h, w, got);
                close("conv, " + in + " in", got, want, got.length, 1e-4 * Math.sqrt(in * 9), 1e-4);
            }
        }
    }

    @Property(tries = 40)
    void attentionMatchesScalar(@ForAll @IntRange(min = 1, max = 2) int batch, @ForAll @IntRange(min = 1, max = 3) int heads,
                                @ForAll @IntRange(min = 1, max = 150) int queries, @ForAll @IntRange(min = 1, max = 211) int keys,
                                @ForAll @IntRange(min = 1, max = 90) int headDim, @ForAll boolean causal, @ForAll long seed) {
        assertAttentionMatchesScalar(batch, heads, queries, keys, headDim, causal, seed);
    }

    /** The head sizes the property above does not reach: SD 1.5's deepest levels (160) and the VAE's one head (512). */
    @Property(tries = 12)
    void attentionWithWideHeadsMatchesScalar(@ForAll("wideHeads") int headDim, @ForAll @IntRange(min = 1, max = 2) int heads,
                                             @ForAll @IntRange(min = 1, max = 100) int queries,
                                             @ForAll @IntRange(min = 1, max = 150) int keys, @ForAll long seed) {
        assertAttentionMatchesScalar(1, heads, queries, keys, headDim, false, seed);
    }

    @Provide
    Arbitrary<Integer> wideHeads() {
        return Arbitraries.of(97, 160, 512);
    }

    private static void assertAttentionMatchesScalar(int batch, int heads, int queries, int keys, int headDim, boolean causal,
                                                     long seed) {
        Random rnd = new Random(seed);
        int width = heads * headDim;
        float[] q = Naive.random(rnd, batch * queries * width), k = Naive.random(rnd, batch * keys * width);
        float[] v = Naive.random(rnd, batch * keys * width);
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] want = new float[q.length], got = new float[q.length];
        SCALAR.attention(q, k, v, batch, heads, queries, keys, headDim, scale, causal, want);
        VECTOR.attention(q, k, v, batch, heads, queries, keys, headDim, scale, causal, got);
        close("attention", got, want, want.length, 1e-5, 1e-4);
    }

    @Property(tries = 30)
    void normsAndSoftmaxMatchScalar(@ForAll @IntRange(min = 1, max = 3) int batch, @ForAll @IntRange(min = 1, max = 8) int groups,
                                    @ForAll @IntRange(min = 1, max = 5) int perGroup, @ForAll @IntRange(min = 1, max = 1300) int spatial,
                                    @ForAll boolean silu, @ForAll boolean affine, @ForAll long seed) {
        Random rnd = new Random(seed);
        int channels = groups * perGroup, n = batch * channels * spatial;
        float[] x = Naive.random(rnd, n), want = new float[n], got = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = 3 + 2 * x[i]; // an offset, so that the mean matters
        }
        float[] gamma = affine ? Naive.random(rnd, channels) : null, beta = affine ? Naive.random(rnd, channels) : null;
        SCALAR.groupNorm(x, batch, channels, spatial, groups, 1e-5f, gamma, beta, silu, want);
        VECTOR.groupNorm(x, batch, channels, spatial, groups, 1e-5f, gamma, beta, silu, got);
        close("groupNorm", got, want, n, 1e-5, 1e-4);
        int rows = batch * channels, dim = spatial;
        float[] g = affine ? Naive.random(rnd, dim) : null, b = affine ? Naive.random(rnd, dim) : null;
        SCALAR.layerNorm(x, rows, dim, 1e-5f, g, b, want);
        float[] inPlace = x.clone();
        VECTOR.layerNorm(inPlace, rows, dim, 1e-5f, g, b, inPlace);
        close("layerNorm", inPlace, want, n, 1e-5, 1e-4);
        float[] s1 = x.clone(), s2 = x.clone();
        SCALAR.softmax(s1, rows, dim);
        VECTOR.softmax(s2, rows, dim);
        close("softmax", s2, s1, n, 1e-7, 1e-5);
    }

    @Property(tries = 30)
    void elementWiseMatchesScalar(@ForAll @IntRange(min = 1, max = 70_000) int n, @ForAll @IntRange(min = 1, max = 40) int dim,
                                  @ForAll long seed) {
        Random rnd = new Random(seed);
        float[] x = Naive.random(rnd, n), b = Naive.random(rnd, n);
        for (int i = 0; i < n; i += 7) {
            x[i] *= 30; // the far tails of the activations too
        }
        float[] want = new float[n + 1], got = new float[n + 1];
        for (String op : new String[]{"silu", "gelu", "geluTanh", "quickGelu", "add", "mul", "scale", "bias"}) {
            for (ScalarKernels k : new ScalarKernels[]{SCALAR, VECTOR}) {
                float[] y = k == SCALAR ? want : got;
                switch (op) {
                    case "silu" -> k.silu(x, n, y);
                    case "gelu" -> k.gelu(x, n, y);
                    case "geluTanh" -> k.geluTanh(x, n, y);
                    case "quickGelu" -> k.quickGelu(x, n, y);
                    case "add" -> k.add(x, b, n, y);
                    case "mul" -> k.mul(x, b, n, y);
                    case "scale" -> k.scale(x, -0.37f, n, y);
                    default -> {
                        System.arraycopy(x, 0, y, 0, n);
                        k.addChannelBias(y, 1, n / dim, dim, b);
                    }
                }
            }
            close(op, got, want, n, 1e-6, 2e-6);
            assertTrue(got[n] == 0, op + " wrote past n");
        }
    }

    @Property(tries = 30)
    void tokenTranspositionsMatchScalar(@ForAll @IntRange(min = 1, max = 3) int batch, @ForAll @IntRange(min = 1, max = 70) int channels,
                                        @ForAll @IntRange(min = 1, max = 300) int spatial, @ForAll long seed) {
        float[] x = Naive.random(new Random(seed), batch * channels * spatial);
        float[] want = new float[x.length], got = new float[x.length], back = new float[x.length];
        SCALAR.toTokens(x, batch, channels, spatial, want);
        VECTOR.toTokens(x, batch, channels, spatial, got);
        assertArrayEquals(want, got);
        VECTOR.fromTokens(got, batch, channels, spatial, back);
        assertArrayEquals(x, back);
    }

    /** Exact doublings take the vector path, other sizes the scalar one; both must copy the same values. */
    @Property(tries = 30)
    void upsampleMatchesScalar(@ForAll @IntRange(min = 1, max = 5) int planes, @ForAll @IntRange(min = 1, max = 40) int height,
                               @ForAll @IntRange(min = 1, max = 70) int width, @ForAll boolean doubling, @ForAll long seed) {
        float[] x = Naive.random(new Random(seed), planes * height * width);
        int outHeight = doubling ? 2 * height : height + 3, outWidth = doubling ? 2 * width : 3 * width - 1;
        float[] want = new float[planes * outHeight * outWidth], got = new float[want.length + 1];
        SCALAR.upsampleNearest(x, planes, height, width, outHeight, outWidth, want);
        VECTOR.upsampleNearest(x, planes, height, width, outHeight, outWidth, got);
        assertArrayEquals(want, Arrays.copyOf(got, want.length));
        assertTrue(got[want.length] == 0, "upsample wrote past its output");
    }

    /** The caller alone and the pool on the same task list (other pool sizes: {@link AnyThreadCountTest}). */
    @Property(tries = 10)
    void oneThreadAndAllThreadsGiveIdenticalResults(@ForAll @IntRange(min = 1, max = 200) int rows,
                                                    @ForAll @IntRange(min = 1, max = 300) int n, @ForAll long seed) {
        Random rnd = new Random(seed);
        float[] x = Naive.random(rnd, rows * n);
        try (Arena arena = Arena.ofConfined()) {
            LinearWeights lw = VECTOR.prepareLinear(Tensor.ofFloats(arena, Naive.random(rnd, n * 70), 70, n), null);
            ConvWeights cw = VECTOR.prepareConv(Tensor.ofFloats(arena, Naive.random(rnd, 13 * n * 9), 13, n, 3, 3), null);
            float[] y1 = new float[rows * 70], y2 = new float[rows * 70];
            float[] c1 = new float[13 * rows], c2 = new float[13 * rows];
            float[] a1 = new float[rows * n], a2 = new float[rows * n];
            Runnable all = () -> {
                VECTOR.linear(x, rows, lw, y2);
                VECTOR.conv2d(x, 1, rows, 1, cw, 1, 1, 1, rows, 1, c2); // treats x as [n, rows, 1]
                VECTOR.attention(x, x, x, 1, 1, rows, rows, n, 0.1f, false, a2);
            };
            Parallel.serially(() -> {
                VECTOR.linear(x, rows, lw, y1);
                VECTOR.conv2d(x, 1, rows, 1, cw, 1, 1, 1, rows, 1, c1);
                VECTOR.attention(x, x, x, 1, 1, rows, rows, n, 0.1f, false, a1);
            });
            all.run();
            assertArrayEquals(y1, y2);
            assertArrayEquals(c1, c2);
            assertArrayEquals(a1, a2);
        }
    }
}
