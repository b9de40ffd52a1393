package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/** The VAE mid block's self-attention: one head over all pixels, {@code x + attention(group_norm(x))}. */
final class VaeAttention {
    private static final float NORM_EPS = 1e-6f;

    private final Kernels k;
    private final GroupNorm norm;            // [channels]
    private final CrossAttention attention;  // to_q, to_k, to_v, to_out.0: [channels, channels] (+ bias)
    private final int channels;

    private VaeAttention(Kernels k, GroupNorm norm, CrossAttention attention, int channels) {
        this.k = k;
        this.norm = norm;
        this.attention = attention;
        this.channels = channels;
    }

    static VaeAttention load(Kernels k, Weights w, String prefix, int channels) {
        return new VaeAttention(k,
                GroupNorm.load(k, w, prefix + ".group_norm", channels, NORM_EPS),
                CrossAttention.load(k, w, prefix, channels, channels, 1),
                channels);
    }

    /** {@code y[batch, channels, height, width]} from x of the same shape; y may alias x (the residual is added last). */
    void forward(float[] x, int batch, int height, int width, float[] y, Workspace ws) {
        int spatial = height * width;
        long n = (long) batch * channels * spatial;
        int mark = ws.mark();
        float[] pixels = ws.take(n);
        float[] tokens = ws.take(n);
        float[] attended = ws.take(n);
        norm.forward(x, batch, spatial, false, pixels);
        k.toTokens(pixels, batch, channels, spatial, tokens);
        attention.forward(tokens, batch, spatial, tokens, spatial, attended, ws);
        k.fromTokens(attended, batch, channels, spatial, pixels);
        k.add(x, pixels, (int) n, y);
        ws.release(mark);
    }
}
