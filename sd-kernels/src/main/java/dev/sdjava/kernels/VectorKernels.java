package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels. Each hot loop is a small static method with no mode flags, so that C2 inlines
 * every vector operation (a vector that escapes a non-inlined call is boxed, and a kernel becomes 10-100x
 * slower). Kernels not overridden here are the scalar ones: either C2 vectorises them already (F16
 * conversion, copies) or they are not on the hot path.
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

    /** Linear weights packed into NR-wide panels: panel p holds {@code W[p·NR + j, k]} at {@code (p·in + k)·NR + j}. */
    record Panels(int inFeatures, int outFeatures, float[] panels, float[] bias) implements LinearWeights {
    }

    /** Convolution weights as stored, {@code [out, in·kh·kw]} row-major: the A operand of the implicit GEMM. */
    record ConvRows(int outChannels, int inChannels, int kernelHeight, int kernelWidth, float[] w, float[] bias)
            implements ConvWeights {
    }

    /** Rows of x (linear) per parallel task and K block: an MC x KC block of A stays in L2. */
    private static final int MC = 96;
    /** Output pixels per convolution task: the packed activation block, KC x PIXELS floats, stays in L2. */
    private static final int PIXELS = 4 * Gemm.NR;
    private static final ThreadLocal<float[]> PACK = ThreadLocal.withInitial(() -> new float[Gemm.KC * PIXELS]);

    // ---- weights ----

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        WeightData.checkLinear(weight, bias);
        int out = Math.toIntExact(weight.dim(0)), in = Math.toIntExact(weight.dim(1));
        float[] w = WeightData.floats(weight, this);
        int nr = Gemm.NR, count = (out + nr - 1) / nr;
        // The stored form is dropped as soon as it is packed: only the panels stay in memory.
        float[] panels = new float[Math.multiplyExact(count * in, nr)];
        for (int o = 0; o < out; o++) {
            int p = o / nr, j = o % nr;
            for (int k = 0; k < in; k++) {
                panels[(p * in + k) * nr + j] = w[o * in + k];
            }
        }
        return new Panels(in, out, panels, WeightData.bias(bias, out, this));
    }

    @Override
    public ConvWeights prepareConv(Tensor weight, Tensor bias) {
        WeightData.checkConv(weight, bias);
        int out = Math.toIntExact(weight.dim(0));
        return new ConvRows(out, Math.toIntExact(weight.dim(1)), Math.toIntExact(weight.dim(2)),
                Math.toIntExact(weight.dim(3)), WeightData.floats(weight, this), WeightData.bias(bias, out, this));
    }

    // ---- dense ----

    /**
     * {@code y = x Wᵀ + b} as GEMM with A = x read in place and B = the weight panels. Tasks are MC-row blocks
     * times groups of panels, enough of them to keep every thread busy when there are few rows (CLIP: 77).
     */
    @Override
    public void linear(float[] x, int rows, LinearWeights weights, float[] y) {
        Panels w = as(weights, Panels.class);
        int in = w.inFeatures, out = w.outFeatures, nr = Gemm.NR;
        need(x, (long) rows * in, "linear input x");
        need(y, (long) rows * out, "linear output y");
        int mBlocks = (rows + MC - 1) / MC, panels = (out + nr - 1) / nr;
        int groups = Math.min(panels, Math.max(1, (4 * Parallel.threads() + mBlocks - 1) / mBlocks));
        int perGroup = (panels + groups - 1) / groups;
        int groupCount = (panels + perGroup - 1) / perGroup;
        Parallel.forRange(mBlocks * groupCount, (t0, t1) -> {
            float[] tile = new float[Gemm.MR * nr];
            for (int t = t0; t < t1; t++) {
                int m0 = (t / groupCount) * MC, mr = Math.min(MC, rows - m0);
                int p0 = (t % groupCount) * perGroup, p1 = Math.min(panels, p0 + perGroup);
                int col0 = p0 * nr;
                Gemm.fillColumns(y, m0 * out + col0, out, mr, Math.min(out, p1 * nr) - col0, w.bias, col0);
                for (int k0 = 0; k0 < in; k0 += Gemm.KC) {
                    int kc = Math.min(Gemm.KC, in - k0);
                    for (int p = p0; p < p1; p++) {
                        Gemm.panel(x, m0 * in + k0, in, mr, w.panels, (p * in + k0) * nr, kc,
                                y, m0 * out + p * nr, out, Math.min(nr, out - p * nr), tile);
                    }
                }
            }
        });
    }

    /**
     * Convolution as an implicit GEMM: {@code y[o, p] = b[o] + Σ_k W[o, k] · X[k, p]} with k = (in channel, kernel
     * row, kernel column) and X the im2col matrix, never built whole: each task packs a KC x PIXELS block of it
     * (zeros where the kernel reaches past the border) and runs every output channel against it. One path
     * serves 3x3, 1x1, stride 2 and asymmetric padding.
     */
    @Override
    public void conv2d(float[] x, int batch, int height, int width, ConvWeights weights,
                       int stride, int padTop, int padLeft, int outHeight, int outWidth, float[] y) {
        ConvRows w = as(weights, ConvRows.class);
        checkConv(x, batch, height, width, w, stride, outHeight, outWidth, y);
        int out = w.outChannels, kk = w.inChannels * w.kernelHeight * w.kernelWidth;
        int pixels = outHeight * outWidth, pBlocks = (pixels + PIXELS - 1) / PIXELS;
        int spatialTasks = batch * pBlocks;
        // Split the output channels too when there are few pixel blocks (the 8x8 levels of the U-Net).
        int mSplit = Math.max(1, Math.min((out + Gemm.MR - 1) / Gemm.MR, (4 * Parallel.threads() + spatialTasks - 1) / spatialTasks));
        int mRows = ((out + mSplit - 1) / mSplit + Gemm.MR - 1) / Gemm.MR * Gemm.MR;
        int mChunks = (out + mRows - 1) / mRows;
        ConvShape shape = new ConvShape(w.inChannels, height, width, w.kernelHeight, w.kernelWidth, stride, padTop, padLeft, outWidth);
        Parallel.forRange(spatialTasks * mChunks, (t0, t1) -> {
            float[] tile = new float[Gemm.MR * Gemm.NR];
            float[] pack = PACK.get();
            for (int t = t0; t < t1; t++) {
                int mc = t % mChunks, pb = (t / mChunks) % pBlocks, b = t / (mChunks * pBlocks);
                int o0 = mc * mRows, orows = Math.min(mRows, out - o0);
                int p0 = pb * PIXELS, np = Math.min(PIXELS, pixels - p0);
                int yAt = (b * out + o0) * pixels + p0;
                Gemm.fillRows(y, yAt, pixels, orows, np, w.bias, o0);
                for (int k0 = 0; k0 < kk; k0 += Gemm.KC) {
                    int kc = Math.min(Gemm.KC, kk - k0);
                    shape.pack(x, b * w.inChannels * height * width, k0, kc, p0, np, pack);
                    for (int m0 = 0; m0 < orows; m0 += MC) {
                        int mr = Math.min(MC, orows - m0);
                        for (int q = 0; q * Gemm.NR < np; q++) {
                            Gemm.panel(w.w, (o0 + m0) * kk + k0, kk, mr, pack, q * kc * Gemm.NR, kc,
                                    y, yAt + m0 * pixels + q * Gemm.NR, pixels, Math.min(Gemm.NR, np - q * Gemm.NR), tile);
                        }
                    }
                }
            }
        });
    }

    @Override
    public void attention(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int headDim,
                          float scale, boolean causal, float[] out) {
        checkAttention(q, k, v, batch, heads, queries, keys, headDim, out);
        FlashAttention.run(q, k, v, batch, heads, queries, keys, headDim, scale, causal, out);
    }

    // ---- element-wise ----

    @Override
    public void add(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "add");
        need(y, n, "add y");
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = a[i] + b[i];
        }
    }

    @Override
    public void mul(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "mul");
        need(y, n, "mul y");
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = a[i] * b[i];
        }
    }

    @Override
    public void scale(float[] x, float s, int n, float[] y) {
        need2(x, y, n, "scale");
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector.fromArray(F, x, i).mul(s).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = s * x[i];
        }
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
