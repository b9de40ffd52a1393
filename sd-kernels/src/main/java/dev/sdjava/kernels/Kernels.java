package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;

/**
 * Every computation the models make, behind one interface chosen at start-up: a scalar reference
 * implementation, the Vector API one, later a CUDA one. Kernels know nothing of models.
 *
 * <p>Conventions: activations are F32 {@code float[]} on the heap (images NCHW, token sequences
 * {@code [batch, tokens, channels]}, row-major); arrays may be longer than the sizes passed, only
 * the leading elements are read or written. Output arrays must not alias inputs unless a method
 * says so. Weights are prepared once, at load, into the provider's own layout: the prepared form
 * replaces the stored one, the model never sits in memory twice. Results are identical for any
 * thread count.
 */
public interface Kernels {

    /** The provider selected at start-up (see {@link KernelProvider}). */
    static Kernels get() {
        return KernelProvider.selected();
    }

    /** Short name for logs and benchmark tables, e.g. "vector-512" or "scalar". */
    String name();

    /**
     * Runs every kernel on small shapes until the JIT has compiled it, so that the first real call does not
     * run for seconds in the interpreter (Vector API code is 100x slower there), then checks that a small
     * GEMM reaches a sane rate and logs a warning if not. Takes a second or two; a loader calls it once,
     * after preparing the weights. Harmless to call again.
     */
    default void warmUp() {
    }

    // ---- weights, prepared once ----

    /** A linear layer: {@code weight [out, in]} (or a 1x1 conv {@code [out, in, 1, 1]}) of any float dtype, optional {@code bias [out]}. */
    LinearWeights prepareLinear(Tensor weight, Tensor bias);

    /** A convolution: {@code weight [out, in, kh, kw]} of any float dtype, optional {@code bias [out]}. */
    ConvWeights prepareConv(Tensor weight, Tensor bias);

    // ---- dense ----

    /** {@code y[rows, out] = x[rows, in] · Wᵀ + b}. */
    void linear(float[] x, int rows, LinearWeights w, float[] y);

    /**
     * GEGLU (Shazeer, 2020), the transformer feed-forward's gated projection: {@code y[rows, n] = (x·Vᵀ + b_v) ·
     * gelu(x·Gᵀ + b_g)} (exact GELU), with {@code value} V and {@code gate} G both {@code [n, in]} (the two halves
     * of diffusers' {@code ff.net.0.proj}). The 2n-wide projection is never written out whole.
     */
    void geglu(float[] x, int rows, LinearWeights value, LinearWeights gate, float[] y);

    /**
     * 2-D convolution over NCHW {@code x[batch, in, height, width]} into {@code y[batch, out, outHeight, outWidth]}:
     * {@code y[o, r, c] = b[o] + Σ w[o, i, dr, dc] · x[i, r·stride - padTop + dr, c·stride - padLeft + dc]}, reading
     * zeros outside the input. Symmetric padding p: padTop = padLeft = p and the usual output size; the VAE's
     * asymmetric "pad right/bottom by one" is padTop = padLeft = 0 with the output size it gives.
     */
    void conv2d(float[] x, int batch, int height, int width, ConvWeights w,
                int stride, int padTop, int padLeft, int outHeight, int outWidth, float[] y);

    /**
     * Scaled dot-product attention, per batch element and head:
     * {@code out = softmax(q kᵀ · scale [+ causal mask]) v}. {@code q [batch, queries, heads·headDim]},
     * {@code k, v [batch, keys, heads·headDim]}, {@code out [batch, queries, heads·headDim]}. Causal: query i
     * sees keys j ≤ i. Never materialises the whole score matrix.
     */
    void attention(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int headDim,
                   float scale, boolean causal, float[] out);

    /** Row-wise softmax of {@code x[rows, cols]}, in place. */
    void softmax(float[] x, int rows, int cols);

    // ---- normalisation ----

    /**
     * GroupNorm over {@code x[batch, channels, spatial]} with {@code groups} groups (biased variance),
     * affine {@code gamma, beta [channels]}, then SiLU when {@code silu}. {@code y} may alias {@code x}.
     */
    void groupNorm(float[] x, int batch, int channels, int spatial, int groups, float eps,
                   float[] gamma, float[] beta, boolean silu, float[] y);

    /** LayerNorm over the last dimension of {@code x[rows, dim]}. {@code y} may alias {@code x}. */
    void layerNorm(float[] x, int rows, int dim, float eps, float[] gamma, float[] beta, float[] y);

    // ---- element-wise (y may alias x) ----

    void silu(float[] x, int n, float[] y);

    /** Exact GELU, {@code x·Φ(x)} with the error function. */
    void gelu(float[] x, int n, float[] y);

    /** GELU, tanh approximation. */
    void geluTanh(float[] x, int n, float[] y);

    /** CLIP's {@code x·sigmoid(1.702·x)}. */
    void quickGelu(float[] x, int n, float[] y);

    /** {@code y = a + b}. y may alias a or b. */
    void add(float[] a, float[] b, int n, float[] y);

    /** {@code y = a · b}. y may alias a or b. */
    void mul(float[] a, float[] b, int n, float[] y);

    /** {@code y = s · x}. */
    void scale(float[] x, float s, int n, float[] y);

    /** {@code x[b, c, :] += bias[b·channels + c]}: a per-sample, per-channel bias (the time embedding). */
    void addChannelBias(float[] x, int batch, int channels, int spatial, float[] bias);

    // ---- layout ----

    /** Nearest-neighbour resize of {@code x[planes, height, width]}: source index = floor(dst · in / out). */
    void upsampleNearest(float[] x, int planes, int height, int width, int outHeight, int outWidth, float[] y);

    /** {@code y[b] = concat(a[b, 0:ca], c[b, 0:cb])} along channels of NCHW tensors with {@code spatial} pixels. */
    void concatChannels(float[] a, int ca, float[] b, int cb, int batch, int spatial, float[] y);

    /** {@code [batch, channels, spatial] → [batch, spatial, channels]}. */
    void toTokens(float[] x, int batch, int channels, int spatial, float[] y);

    /** {@code [batch, spatial, channels] → [batch, channels, spatial]}. */
    void fromTokens(float[] x, int batch, int channels, int spatial, float[] y);

    /**
     * Sinusoidal timestep embedding as diffusers computes it: {@code half = dim/2},
     * {@code f_j = exp(-ln(10000)·j / (half - shift))}, argument {@code (float) t · f_j} in float32;
     * output {@code [cos | sin]} when {@code flipSinToCos}, else {@code [sin | cos]}.
     */
    void timestepEmbedding(float[] timesteps, int batch, int dim, boolean flipSinToCos, float shift, float[] y);

    // ---- conversion ----

    /** IEEE half-precision bit patterns to float, exactly. */
    void f16ToF32(short[] x, int n, float[] y);

    /** bfloat16 bit patterns to float, exactly. */
    void bf16ToF32(short[] x, int n, float[] y);
}
