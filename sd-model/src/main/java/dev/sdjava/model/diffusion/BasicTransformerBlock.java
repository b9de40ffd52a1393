package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/** Pre-norm transformer layer on image tokens: self-attention, cross-attention to the text, GEGLU feed-forward. */
final class BasicTransformerBlock {
    private final Kernels k;
    private final LayerNorm norm1;      // [dim]
    private final CrossAttention attn1; // self
    private final LayerNorm norm2;      // [dim]
    private final CrossAttention attn2; // to the text context
    private final LayerNorm norm3;      // [dim]
    private final FeedForward ff;
    private final int dim;

    private BasicTransformerBlock(Kernels k, LayerNorm norm1, CrossAttention attn1, LayerNorm norm2, CrossAttention attn2,
                                  LayerNorm norm3, FeedForward ff, int dim) {
        this.k = k;
        this.norm1 = norm1;
        this.attn1 = attn1;
        this.norm2 = norm2;
        this.attn2 = attn2;
        this.norm3 = norm3;
        this.ff = ff;
        this.dim = dim;
    }

    static BasicTransformerBlock load(Kernels k, Weights w, String prefix, int dim, int contextDim, int heads) {
        return new BasicTransformerBlock(k,
                LayerNorm.load(k, w, prefix + ".norm1", dim),
                CrossAttention.load(k, w, prefix + ".attn1", dim, dim, heads),
                LayerNorm.load(k, w, prefix + ".norm2", dim),
                CrossAttention.load(k, w, prefix + ".attn2", dim, contextDim, heads),
                LayerNorm.load(k, w, prefix + ".norm3", dim),
                FeedForward.load(k, w, prefix + ".ff", dim),
                dim);
    }

    /** Updates {@code h[batch, tokens, dim]} in place; {@code context[batch, contextTokens, contextDim]}. */
    void forward(float[] h, int batch, int tokens, float[] context, int contextTokens, Workspace ws) {
        int mark = ws.mark();
        int rows = batch * tokens;
        int n = rows * dim;
        float[] normed = ws.take(n);
        float[] delta = ws.take(n);
        norm1.forward(h, rows, normed);
        attn1.forward(normed, batch, tokens, normed, tokens, delta, ws);
        k.add(h, delta, n, h);
        norm2.forward(h, rows, normed);
        attn2.forward(normed, batch, tokens, context, contextTokens, delta, ws);
        k.add(h, delta, n, h);
        norm3.forward(h, rows, normed);
        ff.forward(normed, rows, delta, ws);
        k.add(h, delta, n, h);
        ws.release(mark);
    }
}
