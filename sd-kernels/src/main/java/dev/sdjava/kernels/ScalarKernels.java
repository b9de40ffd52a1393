package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;

/**
 * The reference implementation: plain loops, easy to check by eye, the twin every SIMD kernel is tested
 * against. Also the fallback when the Vector API module is absent. Big kernels run in parallel over their
 * outputs (see {@link Parallel}), so results do not depend on the thread count.
 */
public class ScalarKernels implements Kernels {

    /** Weights as stored, {@code w [out, in]} row-major, widened to float. */
    record Dense(int inFeatures, int outFeatures, float[] w, float[] bias) implements LinearWeights {
    }

    /** Weights as stored, {@code w [out, in, kh, kw]}, widened to float. */
    record Conv(int outChannels, int inChannels, int kernelHeight, int kernelWidth, float[] w, float[] bias)
            implements ConvWeights {
    }

    public ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    // ---- weights ----

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        WeightData.checkLinear(weight, bias);
        int out = Math.toIntExact(weight.dim(0));
        int in = Math.toIntExact(weight.dim(1));
        return new Dense(in, out, WeightData.floats(weight, this), WeightData.bias(bias, out, this));
    }

    @Override
    public ConvWeights prepareConv(Tensor weight, Tensor bias) {
        WeightData.checkConv(weight, bias);
        int out = Math.toIntExact(weight.dim(0));
        return new Conv(out, Math.toIntExact(weight.dim(1)), Math.toIntExact(weight.dim(2)),
                Math.toIntExact(weight.dim(3)), WeightData.floats(weight, this), WeightData.bias(bias, out, this));
    }

    // ---- dense ----

    @Override
    public void linear(float[] x, int rows, LinearWeights weights, float[] y) {
        Dense w = as(weights, Dense.class);
        int in = w.inFeatures, out = w.outFeatures;
        need(x, (long) rows * in, "linear input x");
        need(y, (long) rows * out, "linear output y");
        Parallel.forRange(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int o = 0; o < out; o++) {
                    y[r * out + o] = dot(x, r * in, w, o);
                }
            }
        });
    }

    /** Output {@code o} of a linear layer for the row of x at {@code at}: its weight row · x + its bias. */
    private static float dot(float[] x, int at, Dense w, int o) {
        int in = w.inFeatures;
        float s = 0;
        for (int i = 0; i < in; i++) {
            s = Math.fma(x[at + i], w.w[o * in + i], s);
        }
        return s + w.bias[o];
    }

    @Override
    public void geglu(float[] x, int rows, LinearWeights value, LinearWeights gate, float[] y) {
        Dense v = as(value, Dense.class), g = as(gate, Dense.class);
        checkGeglu(v, g);
        int in = v.inFeatures, n = v.outFeatures;
        need(x, (long) rows * in, "geglu input x");
        need(y, (long) rows * n, "geglu output y");
        Parallel.forRange(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int o = 0; o < n; o++) {
                    y[r * n + o] = dot(x, r * in, v, o) * gelu(dot(x, r * in, g, o));
                }
            }
        });
    }

    @Override
    public void conv2d(float[] x, int batch, int height, int width, ConvWeights weights,
                       int stride, int padTop, int padLeft, int outHeight, int outWidth, float[] y) {
        Conv w = as(weights, Conv.class);
        checkConv(x, batch, height, width, w, stride, outHeight, outWidth, y);
        int in = w.inChannels, out = w.outChannels, kh = w.kernelHeight, kw = w.kernelWidth;
        int inPlane = height * width, outPlane = outHeight * outWidth;
        Parallel.forRange(batch * out, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int b = t / out, o = t % out;
                int yAt = t * outPlane;
                java.util.Arrays.fill(y, yAt, yAt + outPlane, w.bias[o]);
                for (int i = 0; i < in; i++) {
                    int xAt = (b * in + i) * inPlane;
                    for (int dr = 0; dr < kh; dr++) {
                        for (int dc = 0; dc < kw; dc++) {
                            float wv = w.w[((o * in + i) * kh + dr) * kw + dc];
                            for (int r = 0; r < outHeight; r++) {
                                int ir = r * stride - padTop + dr;
                                if (ir < 0 || ir >= height) {
                                    continue;
                                }
                                for (int c = 0; c < outWidth; c++) {
                                    int ic = c * stride - padLeft + dc;
                                    if (ic >= 0 && ic < width) {
                                        y[yAt + r * outWidth + c] += wv * x[xAt + ir * width + ic];
                                    }
                                }
                            }
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
        int width = heads * headDim;
        // Online softmax: one pass over the keys keeps a running maximum m, denominator l and weighted sum acc.
        Parallel.forRange(batch * heads * queries, (t0, t1) -> {
            float[] acc = new float[headDim];
            for (int t = t0; t < t1; t++) {
                int i = t % queries, h = (t / queries) % heads, b = t / (queries * heads);
                int qAt = (b * queries + i) * width + h * headDim;
                float m = Float.NEGATIVE_INFINITY, l = 0;
                java.util.Arrays.fill(acc, 0);
                int last = causal ? Math.min(keys, i + 1) : keys;
                for (int j = 0; j < last; j++) {
                    int kAt = (b * keys + j) * width + h * headDim;
                    float s = 0;
                    for (int d = 0; d < headDim; d++) {
                        s = Math.fma(q[qAt + d], k[kAt + d], s);
                    }
                    s *= scale;
                    if (s > m) {
                        float correction = (float) Math.exp(m - s);
                        l *= correction;
                        for (int d = 0; d < headDim; d++) {
                            acc[d] *= correction;
                        }
                        m = s;
                    }
                    float p = (float) Math.exp(s - m);
                    l += p;
                    for (int d = 0; d < headDim; d++) {
                        acc[d] = Math.fma(p, v[kAt + d], acc[d]);
                    }
                }
                float inv = 1 / l;
                for (int d = 0; d < headDim; d++) {
                    out[qAt + d] = acc[d] * inv;
                }
            }
        });
    }

    @Override
    public void softmax(float[] x, int rows, int cols) {
        need(x, (long) rows * cols, "softmax x");
        for (int r = 0; r < rows; r++) {
            int at = r * cols;
            float m = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                m = Math.max(m, x[at + c]);
            }
            float sum = 0;
            for (int c = 0; c < cols; c++) {
                float e = (float) Math.exp(x[at + c] - m);
                x[at + c] = e;
                sum += e;
            }
            float inv = 1 / sum;
            for (int c = 0; c < cols; c++) {
                x[at + c] *= inv;
            }
        }
    }

    // ---- normalisation ----

    @Override
    public void groupNorm(float[] x, int batch, int channels, int spatial, int groups, float eps,
                          float[] gamma, float[] beta, boolean silu, float[] y) {
        checkGroupNorm(x, batch, channels, spatial, groups, gamma, beta, y);
        int perGroup = channels / groups;
        Parallel.forRange(batch * groups, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int at = t * perGroup * spatial, n = perGroup * spatial;
                double mean = meanOf(x, at, n);
                float rstd = reciprocalStd(x, at, n, mean, eps);
                float fmean = (float) mean;
                int c0 = (t % groups) * perGroup;
                for (int c = 0; c < perGroup; c++) {
                    float g = gamma == null ? 1 : gamma[c0 + c], bb = beta == null ? 0 : beta[c0 + c];
                    for (int s = 0; s < spatial; s++) {
                        int e = at + c * spatial + s;
                        float v = (x[e] - fmean) * rstd * g + bb;
                        y[e] = silu ? silu(v) : v;
                    }
                }
            }
        });
    }

    /** The mean of {@code x[at, at+n)}, summed in double. */
    private static double meanOf(float[] x, int at, int n) {
        double sum = 0;
        for (int e = 0; e < n; e++) {
            sum += x[at + e];
        }
        return sum / n;
    }

    /** {@code 1 / sqrt(variance + eps)} of {@code x[at, at+n)} around {@code mean} (biased variance, in double). */
    private static float reciprocalStd(float[] x, int at, int n, double mean, float eps) {
        double sq = 0;
        for (int e = 0; e < n; e++) {
            double d = x[at + e] - mean;
            sq += d * d;
        }
        return (float) (1 / Math.sqrt(sq / n + eps));
    }

    @Override
    public void layerNorm(float[] x, int rows, int dim, float eps, float[] gamma, float[] beta, float[] y) {
        need(x, (long) rows * dim, "layerNorm x");
        need(y, (long) rows * dim, "layerNorm y");
        checkAffine(gamma, beta, dim, "layerNorm");
        for (int r = 0; r < rows; r++) {
            int at = r * dim;
            double mean = meanOf(x, at, dim);
            float rstd = reciprocalStd(x, at, dim, mean, eps);
            float fmean = (float) mean;
            for (int c = 0; c < dim; c++) {
                float g = gamma == null ? 1 : gamma[c], b = beta == null ? 0 : beta[c];
                y[at + c] = (x[at + c] - fmean) * rstd * g + b;
            }
        }
    }

    // ---- element-wise ----

    @Override
    public void silu(float[] x, int n, float[] y) {
        need2(x, y, n, "silu");
        for (int i = 0; i < n; i++) {
            y[i] = silu(x[i]);
        }
    }

    @Override
    public void gelu(float[] x, int n, float[] y) {
        need2(x, y, n, "gelu");
        for (int i = 0; i < n; i++) {
            y[i] = gelu(x[i]);
        }
    }

    @Override
    public void geluTanh(float[] x, int n, float[] y) {
        need2(x, y, n, "geluTanh");
        for (int i = 0; i < n; i++) {
            float v = x[i];
            y[i] = 0.5f * v * (1 + (float) Math.tanh(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
        }
    }

    @Override
    public void quickGelu(float[] x, int n, float[] y) {
        need2(x, y, n, "quickGelu");
        for (int i = 0; i < n; i++) {
            float v = x[i];
            y[i] = v / (1 + (float) Math.exp(-1.702f * v));
        }
    }

    @Override
    public void add(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "add");
        need(y, n, "add y");
        for (int i = 0; i < n; i++) {
            y[i] = a[i] + b[i];
        }
    }

    @Override
    public void mul(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "mul");
        need(y, n, "mul y");
        for (int i = 0; i < n; i++) {
            y[i] = a[i] * b[i];
        }
    }

    @Override
    public void scale(float[] x, float s, int n, float[] y) {
        need2(x, y, n, "scale");
        for (int i = 0; i < n; i++) {
            y[i] = s * x[i];
        }
    }

    @Override
    public void addChannelBias(float[] x, int batch, int channels, int spatial, float[] bias) {
        need(x, (long) batch * channels * spatial, "addChannelBias x");
        need(bias, (long) batch * channels, "addChannelBias bias");
        for (int p = 0; p < batch * channels; p++) {
            float b = bias[p];
            for (int s = 0; s < spatial; s++) {
                x[p * spatial + s] += b;
            }
        }
    }

    // ---- layout ----

    @Override
    public void upsampleNearest(float[] x, int planes, int height, int width, int outHeight, int outWidth, float[] y) {
        need(x, (long) planes * height * width, "upsampleNearest x");
        need(y, (long) planes * outHeight * outWidth, "upsampleNearest y");
        int[] sourceColumn = new int[outWidth];
        for (int c = 0; c < outWidth; c++) {
            sourceColumn[c] = (int) ((long) c * width / outWidth);
        }
        for (int p = 0; p < planes; p++) {
            for (int r = 0; r < outHeight; r++) {
                int from = (p * height + (int) ((long) r * height / outHeight)) * width, to = (p * outHeight + r) * outWidth;
                for (int c = 0; c < outWidth; c++) {
                    y[to + c] = x[from + sourceColumn[c]];
                }
            }
        }
    }

    @Override
    public void concatChannels(float[] a, int ca, float[] b, int cb, int batch, int spatial, float[] y) {
        need(a, (long) batch * ca * spatial, "concatChannels a");
        need(b, (long) batch * cb * spatial, "concatChannels b");
        need(y, (long) batch * (ca + cb) * spatial, "concatChannels y");
        for (int n = 0; n < batch; n++) {
            System.arraycopy(a, n * ca * spatial, y, n * (ca + cb) * spatial, ca * spatial);
            System.arraycopy(b, n * cb * spatial, y, (n * (ca + cb) + ca) * spatial, cb * spatial);
        }
    }

    @Override
    public void toTokens(float[] x, int batch, int channels, int spatial, float[] y) {
        need2(x, y, (long) batch * channels * spatial, "toTokens");
        for (int n = 0; n < batch; n++) {
            int at = n * channels * spatial;
            for (int c = 0; c < channels; c++) {
                for (int s = 0; s < spatial; s++) {
                    y[at + s * channels + c] = x[at + c * spatial + s];
                }
            }
        }
    }

    @Override
    public void fromTokens(float[] x, int batch, int channels, int spatial, float[] y) {
        // [batch, spatial, channels] -> [batch, channels, spatial] is the same transpose with the axes' roles swapped
        toTokens(x, batch, spatial, channels, y);
    }

    @Override
    public void timestepEmbedding(float[] timesteps, int batch, int dim, boolean flipSinToCos, float shift, float[] y) {
        need(timesteps, batch, "timestepEmbedding timesteps");
        need(y, (long) batch * dim, "timestepEmbedding y");
        int half = dim / 2;
        for (int n = 0; n < batch; n++) {
            int at = n * dim;
            for (int j = 0; j < half; j++) {
                // Every step rounded to float32, as diffusers computes it in torch.float32.
                float exponent = (float) -Math.log(10000) * j / (half - shift);
                float arg = timesteps[n] * (float) Math.exp(exponent);
                float sin = (float) Math.sin(arg), cos = (float) Math.cos(arg);
                y[at + j] = flipSinToCos ? cos : sin;
                y[at + half + j] = flipSinToCos ? sin : cos;
            }
            if (dim % 2 == 1) {
                y[at + dim - 1] = 0; // diffusers pads an odd dimension with one zero
            }
        }
    }

    // ---- conversion ----

    @Override
    public void f16ToF32(short[] x, int n, float[] y) {
        need(x, n, "f16ToF32 x");
        need(y, n, "f16ToF32 y");
        for (int i = 0; i < n; i++) {
            y[i] = Float.float16ToFloat(x[i]);
        }
    }

    @Override
    public void bf16ToF32(short[] x, int n, float[] y) {
        need(x, n, "bf16ToF32 x");
        need(y, n, "bf16ToF32 y");
        for (int i = 0; i < n; i++) {
            y[i] = Float.intBitsToFloat((x[i] & 0xffff) << 16);
        }
    }

    // ---- scalar math shared with the SIMD kernels' tails ----

    static final float SQRT_2_OVER_PI = 0.7978845608028654f;

    static float silu(float v) {
        return v / (1 + (float) Math.exp(-v));
    }

    /** Exact GELU {@code x·Φ(x)}, Φ through erfc so that the far negative tail keeps its relative accuracy. */
    static float gelu(float v) {
        float phi = 0.5f * erfc(-v * 0.70710677f);
        return v * phi;
    }

    /**
     * Complementary error function, fractional error below 1.2e-7 everywhere (the Chebyshev fit of
     * Numerical Recipes, section 6.2): {@code erfc(z) = t·exp(-z² + P(t))}, {@code t = 1/(1 + |z|/2)}.
     */
    static float erfc(float z) {
        double a = Math.abs(z);
        double t = 1 / (1 + 0.5 * a);
        double p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.exp(-a * a + p);
        return (float) (z >= 0 ? r : 2 - r);
    }

    // ---- argument checks shared by the providers ----

    static <T> T as(Object weights, Class<T> type) {
        if (!type.isInstance(weights)) {
            throw new IllegalArgumentException("weights " + (weights == null ? "null" : weights.getClass().getSimpleName())
                    + " were not prepared by this provider (expected " + type.getSimpleName() + ")");
        }
        return type.cast(weights);
    }

    static void need(float[] a, long n, String what) {
        if (a == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (a.length < n) {
            throw new IllegalArgumentException(what + " has " + a.length + " elements, needs at least " + n);
        }
    }

    static void need(short[] a, long n, String what) {
        if (a == null || a.length < n) {
            throw new IllegalArgumentException(what + " has " + (a == null ? "no" : a.length) + " elements, needs at least " + n);
        }
    }

    static void need2(float[] x, float[] y, long n, String what) {
        need(x, n, what + " x");
        need(y, n, what + " y");
    }

    /** GEGLU's two halves must be projections of the same size from the same input. */
    static void checkGeglu(LinearWeights value, LinearWeights gate) {
        if (value.inFeatures() != gate.inFeatures() || value.outFeatures() != gate.outFeatures()) {
            throw new IllegalArgumentException("geglu: the value weights are [" + value.outFeatures() + ", "
                    + value.inFeatures() + "] but the gate weights [" + gate.outFeatures() + ", " + gate.inFeatures()
                    + "]; both halves must have one shape");
        }
    }

    static void checkAffine(float[] gamma, float[] beta, int n, String what) {
        if (gamma != null) {
            need(gamma, n, what + " gamma");
        }
        if (beta != null) {
            need(beta, n, what + " beta");
        }
    }

    static void checkConv(float[] x, int batch, int height, int width, ConvWeights w, int stride,
                          int outHeight, int outWidth, float[] y) {
        if (stride < 1 || outHeight < 0 || outWidth < 0) {
            throw new IllegalArgumentException("conv2d: stride " + stride + " must be >= 1 and output size "
                    + outHeight + "x" + outWidth + " not negative");
        }
        // The messages are built only on failure: this runs on every call, which must not allocate.
        long xs = (long) batch * w.inChannels() * height * width, ys = (long) batch * w.outChannels() * outHeight * outWidth;
        if (x == null || x.length < xs) {
            need(x, xs, "conv2d input x [" + batch + ", " + w.inChannels() + ", " + height + ", " + width + "]");
        }
        if (y == null || y.length < ys) {
            need(y, ys, "conv2d output y [" + batch + ", " + w.outChannels() + ", " + outHeight + ", " + outWidth + "]");
        }
    }

    static void checkAttention(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys,
                               int headDim, float[] out) {
        long width = (long) heads * headDim;
        need(q, batch * queries * width, "attention q");
        need(k, batch * keys * width, "attention k");
        need(v, batch * keys * width, "attention v");
        need(out, batch * queries * width, "attention out");
        if (keys < 1) {
            throw new IllegalArgumentException("attention needs at least one key, got " + keys);
        }
    }

    static void checkGroupNorm(float[] x, int batch, int channels, int spatial, int groups,
                               float[] gamma, float[] beta, float[] y) {
        if (groups < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + channels + " channels do not split into " + groups + " groups");
        }
        need2(x, y, (long) batch * channels * spatial, "groupNorm");
        checkAffine(gamma, beta, channels, "groupNorm");
    }
}
