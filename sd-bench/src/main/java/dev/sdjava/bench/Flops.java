package dev.sdjava.bench;

/** FLOP counts of the basic operations; a multiply-add counts as two. */
public final class Flops {
    private Flops() {
    }

    /** {@code y[rows, out] = x[rows, in] · Wᵀ}. Bias adds are negligible and not counted. */
    public static double linear(long rows, long in, long out) {
        return 2.0 * rows * in * out;
    }

    /** A {@code k×k} convolution producing {@code out × outH × outW} values from {@code in} channels. */
    public static double conv(long in, long out, int k, long outH, long outW) {
        return 2.0 * in * out * k * k * outH * outW;
    }

    /** {@code softmax(q·kᵀ)·v}: two matrix products per head; the softmax itself is not counted. */
    public static double attention(long batch, long heads, long queries, long keys, long headDim) {
        return 4.0 * batch * heads * queries * keys * headDim;
    }

    /**
     * Normalisation (GroupNorm/LayerNorm, optionally with SiLU) over {@code n} values: a nominal 8 FLOP per
     * value (sum and square sum, subtract, scale, affine, activation). These ops are memory-bound; the count
     * only lets them appear in a FLOP breakdown.
     */
    public static double groupNorm(long n) {
        return 8.0 * n;
    }
}
