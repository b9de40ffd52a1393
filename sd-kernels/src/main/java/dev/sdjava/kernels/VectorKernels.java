package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The Vector API kernels. Each hot loop is a small static method with no mode flags, so that C2 inlines
 * every vector operation (a vector that escapes a non-inlined call is boxed, and a kernel becomes 10-100x
 * slower). Kernels not overridden here are the scalar ones: either C2 vectorises them already (F16
 * conversion, copies) or they are not on the hot path.
 *
 * <p>The dense kernels have classes of their own, all on {@link Gemm}'s micro-kernel: {@link Linear} (linear
 * layers, GEGLU), {@link Winograd} and {@link ImplicitGemm} (convolutions, over {@link ConvRows}) and
 * {@link FlashAttention}; this class checks their arguments and holds the normalisation and element-wise kernels.
 */
public class VectorKernels extends ScalarKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    public VectorKernels() {
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    @Override
    public void warmUp() {
        WarmUp.run(this);
    }

    // ---- weights ----

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        return Linear.pack(weight, bias, this);
    }

    @Override
    public ConvWeights prepareConv(Tensor weight, Tensor bias) {
        return ConvRows.pack(weight, bias, this);
    }

    // ---- dense ----

    @Override
    public void linear(float[] x, int rows, LinearWeights weights, float[] y) {
        Linear.Panels w = as(weights, Linear.Panels.class);
        need(x, (long) rows * w.inFeatures(), "linear input x");
        need(y, (long) rows * w.outFeatures(), "linear output y");
        Linear.linear(x, rows, w, y);
    }

    @Override
    public void geglu(float[] x, int rows, LinearWeights value, LinearWeights gate, float[] y) {
        Linear.Panels v = as(value, Linear.Panels.class), g = as(gate, Linear.Panels.class);
        checkGeglu(v, g);
        need(x, (long) rows * v.inFeatures(), "geglu input x");
        need(y, (long) rows * v.outFeatures(), "geglu output y");
        Linear.geglu(x, rows, v, g, y);
    }

    /** 3x3 stride-1 convolutions that suit it by {@link Winograd}, the rest as an {@link ImplicitGemm}. */
    @Override
    public void conv2d(float[] x, int batch, int height, int width, ConvWeights weights,
                       int stride, int padTop, int padLeft, int outHeight, int outWidth, float[] y) {
        ConvRows w = as(weights, ConvRows.class);
        checkConv(x, batch, height, width, w, stride, outHeight, outWidth, y);
        if (Winograd.suits(w, batch, height, width, stride, padTop, padLeft, outHeight, outWidth)) {
            Winograd.conv2d(x, batch, height, width, w, y);
        } else {
            ImplicitGemm.conv2d(x, batch, height, width, w, stride, padTop, padLeft, outHeight, outWidth, y);
        }
    }

    @Override
    public void attention(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int headDim,
                          float scale, boolean causal, float[] out) {
        checkAttention(q, k, v, batch, heads, queries, keys, headDim, out);
        FlashAttention.run(q, k, v, batch, heads, queries, keys, headDim, scale, causal, out);
    }

    @Override
    public void softmax(float[] x, int rows, int cols) {
        need(x, (long) rows * cols, "softmax x");
        Parallel.forRange(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                softmaxRow(x, r * cols, cols);
            }
        });
    }

    // ---- normalisation ----

    @Override
    public void groupNorm(float[] x, int batch, int channels, int spatial, int groups, float eps,
                          float[] gamma, float[] beta, boolean silu, float[] y) {
        checkGroupNorm(x, batch, channels, spatial, groups, gamma, beta, y);
        int perGroup = channels / groups, n = perGroup * spatial;
        Parallel.forRange(batch * groups, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int at = t * n, c0 = (t % groups) * perGroup;
                float mean = (float) (sum(x, at, n) / n);
                float rstd = (float) (1 / Math.sqrt(squaredDeviations(x, at, n, mean) / n + eps));
                for (int c = 0; c < perGroup; c++) {
                    float a = rstd * (gamma == null ? 1 : gamma[c0 + c]);
                    float b = beta == null ? 0 : beta[c0 + c];
                    if (silu) {
                        affineSilu(x, at + c * spatial, spatial, mean, a, b, y);
                    } else {
                        affine(x, at + c * spatial, spatial, mean, a, b, y);
                    }
                }
            }
        });
    }

    @Override
    public void layerNorm(float[] x, int rows, int dim, float eps, float[] gamma, float[] beta, float[] y) {
        need2(x, y, (long) rows * dim, "layerNorm");
        checkAffine(gamma, beta, dim, "layerNorm");
        float[] g = gamma != null ? gamma : filled(dim, 1), b = beta != null ? beta : new float[dim];
        Parallel.forRange(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int at = r * dim;
                float mean = (float) (sum(x, at, dim) / dim);
                float rstd = (float) (1 / Math.sqrt(squaredDeviations(x, at, dim, mean) / dim + eps));
                normalizeRow(x, at, dim, mean, rstd, g, b, y);
            }
        });
    }

    /** A doubled row's lanes: each value of a vector's first half twice, then each of its second half. */
    private static final VectorShuffle<Float> FIRST_HALF_TWICE = VectorShuffle.fromOp(F, i -> i / 2);
    private static final VectorShuffle<Float> SECOND_HALF_TWICE = VectorShuffle.fromOp(F, i -> (L + i) / 2);

    /**
     * Planes in parallel. An exact doubling (every upsampler of SD's U-Net and VAE) writes each output row from
     * vectors of its input row, each value twice, and copies it to the row below; other sizes take the scalar
     * index table. The VAE decoder's last one, 256 planes to 512x512, took 49 ms on one thread.
     */
    @Override
    public void upsampleNearest(float[] x, int planes, int height, int width, int outHeight, int outWidth, float[] y) {
        if (outHeight != 2 * height || outWidth != 2 * width) {
            super.upsampleNearest(x, planes, height, width, outHeight, outWidth, y);
            return;
        }
        need(x, (long) planes * height * width, "upsampleNearest x");
        need(y, (long) planes * outHeight * outWidth, "upsampleNearest y");
        Parallel.forRange(planes, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int r = 0; r < height; r++) {
                    int to = (p * outHeight + 2 * r) * outWidth;
                    doubleRow(x, (p * height + r) * width, width, y, to);
                    System.arraycopy(y, to, y, to + outWidth, outWidth);
                }
            }
        });
    }

    /** {@code y[to + 2c] = y[to + 2c + 1] = x[from + c]} for c below width. */
    private static void doubleRow(float[] x, int from, int width, float[] y, int to) {
        int c = 0;
        for (; c + L <= width; c += L) {
            FloatVector v = FloatVector.fromArray(F, x, from + c);
            v.rearrange(FIRST_HALF_TWICE).intoArray(y, to + 2 * c);
            v.rearrange(SECOND_HALF_TWICE).intoArray(y, to + 2 * c + L);
        }
        for (; c < width; c++) {
            y[to + 2 * c] = x[from + c];
            y[to + 2 * c + 1] = x[from + c];
        }
    }

    /** Side of the square tiles a transposition moves at a time: a tile of x and one of y stay in L1. */
    private static final int TRANSPOSE_TILE = 32;

    /**
     * {@code [batch, channels, spatial] -> [batch, spatial, channels]} tile by tile: the plain loop writes y a
     * float per cache line and took 5% of a 64x64 transformer block. A task is a run of tokens, all channels.
     */
    @Override
    public void toTokens(float[] x, int batch, int channels, int spatial, float[] y) {
        need2(x, y, (long) batch * channels * spatial, "toTokens");
        int t = TRANSPOSE_TILE, runs = (spatial + t - 1) / t;
        Parallel.forRange(batch * runs, (t0, t1) -> {
            for (int task = t0; task < t1; task++) {
                int at = task / runs * channels * spatial, s0 = task % runs * t, s1 = Math.min(spatial, s0 + t);
                for (int c0 = 0; c0 < channels; c0 += t) {
                    transposeTile(x, y, at, channels, spatial, c0, Math.min(channels, c0 + t), s0, s1);
                }
            }
        });
    }

    private static void transposeTile(float[] x, float[] y, int at, int channels, int spatial, int c0, int c1, int s0, int s1) {
        for (int s = s0; s < s1; s++) {
            for (int c = c0; c < c1; c++) {
                y[at + s * channels + c] = x[at + c * spatial + s];
            }
        }
    }

    // ---- element-wise: parallel over chunks, each chunk one small vector loop with a masked tail ----

    /** Elements per parallel task of an element-wise kernel: enough to amortise the hand-off. */
    private static final int CHUNK = 1 << 15;

    private static void elements(long n, Parallel.Range range) {
        int count = Math.toIntExact(n);
        Parallel.forRange((count + CHUNK - 1) / CHUNK, (c0, c1) -> range.run(c0 * CHUNK, Math.min(count, c1 * CHUNK)));
    }

    @Override
    public void silu(float[] x, int n, float[] y) {
        need2(x, y, n, "silu");
        elements(n, (from, to) -> silu(x, from, to, y));
    }

    @Override
    public void gelu(float[] x, int n, float[] y) {
        need2(x, y, n, "gelu");
        elements(n, (from, to) -> gelu(x, from, to, y));
    }

    @Override
    public void geluTanh(float[] x, int n, float[] y) {
        need2(x, y, n, "geluTanh");
        elements(n, (from, to) -> geluTanh(x, from, to, y));
    }

    @Override
    public void quickGelu(float[] x, int n, float[] y) {
        need2(x, y, n, "quickGelu");
        elements(n, (from, to) -> quickGelu(x, from, to, y));
    }

    @Override
    public void add(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "add");
        need(y, n, "add y");
        elements(n, (from, to) -> add(a, b, from, to, y));
    }

    @Override
    public void mul(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "mul");
        need(y, n, "mul y");
        elements(n, (from, to) -> mul(a, b, from, to, y));
    }

    @Override
    public void scale(float[] x, float s, int n, float[] y) {
        need2(x, y, n, "scale");
        elements(n, (from, to) -> affine(x, from, to - from, 0, s, 0, y));
    }

    @Override
    public void addChannelBias(float[] x, int batch, int channels, int spatial, float[] bias) {
        need(x, (long) batch * channels * spatial, "addChannelBias x");
        need(bias, (long) batch * channels, "addChannelBias bias");
        Parallel.forRange(batch * channels, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                affine(x, p * spatial, spatial, 0, 1, bias[p], x);
            }
        });
    }

    // ---- the hot loops, one small static method each (see the class comment) ----

    /**
     * Σ x[at, at+n) in float vectors over blocks of 1024, the block totals added in double: accurate and
     * fixed-order. Four accumulators, so that the adds do not wait on each other's latency: with one, GroupNorm's
     * two statistics passes were each one dependency chain (GroupNorm+SiLU on 320x64x64 3-6% faster with four,
     * batch 1 and 2, alternated in one JVM).
     */
    static double sum(float[] x, int at, int n) {
        double total = 0;
        for (int b = 0; b < n; b += 1024) {
            int end = at + Math.min(n, b + 1024);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = at + b;
            for (; i + 4 * L <= end; i += 4 * L) {
                a0 = a0.add(FloatVector.fromArray(F, x, i));
                a1 = a1.add(FloatVector.fromArray(F, x, i + L));
                a2 = a2.add(FloatVector.fromArray(F, x, i + 2 * L));
                a3 = a3.add(FloatVector.fromArray(F, x, i + 3 * L));
            }
            for (; i < end; i += L) {
                a0 = a0.add(FloatVector.fromArray(F, x, i, F.indexInRange(i, end)));
            }
            total += VMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        }
        return total;
    }

    /** Σ (x - mean)² over {@code [at, at+n)}, blocked and unrolled like {@link #sum}. */
    static double squaredDeviations(float[] x, int at, int n, float mean) {
        double total = 0;
        for (int b = 0; b < n; b += 1024) {
            int end = at + Math.min(n, b + 1024);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = at + b;
            for (; i + 4 * L <= end; i += 4 * L) {
                FloatVector d0 = FloatVector.fromArray(F, x, i).sub(mean);
                FloatVector d1 = FloatVector.fromArray(F, x, i + L).sub(mean);
                FloatVector d2 = FloatVector.fromArray(F, x, i + 2 * L).sub(mean);
                FloatVector d3 = FloatVector.fromArray(F, x, i + 3 * L).sub(mean);
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
                a2 = d2.fma(d2, a2);
                a3 = d3.fma(d3, a3);
            }
            for (; i < end; i += L) {
                var m = F.indexInRange(i, end);
                FloatVector d = FloatVector.fromArray(F, x, i, m).sub(mean).blend(0f, m.not());
                a0 = d.fma(d, a0);
            }
            total += VMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        }
        return total;
    }

    /**
     * {@code y = (x - mean)·a + b} over {@code [at, at+n)}. Subtracting the mean first, not folding it into b,
     * keeps a group of near-constant values (tiny variance, huge a) from cancelling catastrophically.
     */
    static void affine(float[] x, int at, int n, float mean, float a, float b, float[] y) {
        int i = at, end = at + n;
        for (; i + L <= end; i += L) {
            FloatVector.fromArray(F, x, i).sub(mean).fma(a, b).intoArray(y, i);
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            FloatVector.fromArray(F, x, i, m).sub(mean).fma(a, b).intoArray(y, i, m);
        }
    }

    /** {@code y = silu((x - mean)·a + b)} over {@code [at, at+n)}: GroupNorm's affine step fused with the activation. */
    static void affineSilu(float[] x, int at, int n, float mean, float a, float b, float[] y) {
        int i = at, end = at + n;
        for (; i + L <= end; i += L) {
            VMath.silu(FloatVector.fromArray(F, x, i).sub(mean).fma(a, b)).intoArray(y, i);
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            VMath.silu(FloatVector.fromArray(F, x, i, m).sub(mean).fma(a, b)).intoArray(y, i, m);
        }
    }

    static void normalizeRow(float[] x, int at, int dim, float mean, float rstd, float[] g, float[] b, float[] y) {
        int j = 0;
        for (; j + L <= dim; j += L) {
            FloatVector v = FloatVector.fromArray(F, x, at + j).sub(mean).mul(rstd);
            v.fma(FloatVector.fromArray(F, g, j), FloatVector.fromArray(F, b, j)).intoArray(y, at + j);
        }
        if (j < dim) {
            var m = F.indexInRange(j, dim);
            FloatVector v = FloatVector.fromArray(F, x, at + j, m).sub(mean).mul(rstd);
            v.fma(FloatVector.fromArray(F, g, j, m), FloatVector.fromArray(F, b, j, m)).intoArray(y, at + j, m);
        }
    }

    static void softmaxRow(float[] x, int at, int n) {
        int end = at + n, i;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (i = at; i + L <= end; i += L) {
            mv = mv.max(FloatVector.fromArray(F, x, i));
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            mv = mv.max(FloatVector.fromArray(F, x, i, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        FloatVector total = FloatVector.zero(F);
        for (i = at; i + L <= end; i += L) {
            FloatVector e = VMath.exp(FloatVector.fromArray(F, x, i).sub(max));
            e.intoArray(x, i);
            total = total.add(e);
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            FloatVector e = VMath.exp(FloatVector.fromArray(F, x, i, m).sub(max)).blend(0f, m.not());
            e.intoArray(x, i, m);
            total = total.add(e);
        }
        affine(x, at, n, 0, 1 / VMath.sumLanes(total), 0, x);
    }

    static void silu(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            VMath.silu(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            VMath.silu(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    static void gelu(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            VMath.gelu(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            VMath.gelu(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    static void geluTanh(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            VMath.geluTanh(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            VMath.geluTanh(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    static void quickGelu(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.div(VMath.exp(v.mul(-1.702f)).add(1f)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(F, x, i, m);
            v.div(VMath.exp(v.mul(-1.702f)).add(1f)).intoArray(y, i, m);
        }
    }

    /** One row: {@code y[yAt + j] = c[valueAt + j] · gelu(c[gateAt + j])} for j below n. */
    static void gegluRow(float[] c, int valueAt, int gateAt, int n, float[] y, int yAt) {
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector g = VMath.gelu(FloatVector.fromArray(F, c, gateAt + j));
            FloatVector.fromArray(F, c, valueAt + j).mul(g).intoArray(y, yAt + j);
        }
        if (j < n) {
            var m = F.indexInRange(j, n);
            FloatVector g = VMath.gelu(FloatVector.fromArray(F, c, gateAt + j, m));
            FloatVector.fromArray(F, c, valueAt + j, m).mul(g).intoArray(y, yAt + j, m);
        }
    }

    static void add(float[] a, float[] b, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            FloatVector.fromArray(F, a, i, m).add(FloatVector.fromArray(F, b, i, m)).intoArray(y, i, m);
        }
    }

    static void mul(float[] a, float[] b, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            FloatVector.fromArray(F, a, i, m).mul(FloatVector.fromArray(F, b, i, m)).intoArray(y, i, m);
        }
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, value);
        return a;
    }

    // ---- conversion ----

    /** bf16 is the top half of a float: zero-extend each 16-bit pattern to 32 bits and shift it up. */
    @Override
    public void bf16ToF32(short[] x, int n, float[] y) {
        need(x, n, "bf16ToF32 x");
        need(y, n, "bf16ToF32 y");
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            ShortVector.fromArray(S, x, i)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = Float.intBitsToFloat((x[i] & 0xffff) << 16);
        }
    }
}
