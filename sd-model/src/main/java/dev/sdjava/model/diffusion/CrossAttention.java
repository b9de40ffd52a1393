package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/**
 * Multi-head attention of a query sequence over a key/value sequence (itself for self-attention, the text
 * tokens for cross-attention): {@code to_out(softmax(q kᵀ / sqrt(headDim)) v)} per head, computed in F32
 * (which is what SD 2's {@code upcast_attention} asks for). The U-Net's projections have no biases, the VAE's do.
 */
final class CrossAttention {
    private final Kernels k;
    private final LinearWeights toQ;   // [inner, queryDim]
    private final LinearWeights toK;   // [inner, contextDim]
    private final LinearWeights toV;   // [inner, contextDim]
    private final LinearWeights toOut; // [queryDim, inner] + bias
    private final int inner;
    private final int heads;
    private final float scale;

    private CrossAttention(Kernels k, LinearWeights toQ, LinearWeights toK, LinearWeights toV, LinearWeights toOut,
                           int heads) {
        this.k = k;
        this.toQ = toQ;
        this.toK = toK;
        this.toV = toV;
        this.toOut = toOut;
        this.inner = toQ.outFeatures();
        this.heads = heads;
        this.scale = (float) (1 / Math.sqrt(inner / heads));
    }

    /** {@code heads} comes from configuration ({@link dev.sdjava.model.AttentionHeads}): the weights do not carry it. */
    static CrossAttention load(Kernels k, Weights w, String prefix, int queryDim, int contextDim, int heads) {
        int inner = Params.dim(w, prefix + ".to_q.weight", 0);
        if (heads <= 0 || inner % heads != 0) {
            throw new IllegalArgumentException(prefix + ": attention width " + inner + " does not split into " + heads + " heads");
        }
        return new CrossAttention(k,
                Params.linear(k, w, prefix + ".to_q", queryDim, inner),
                Params.linear(k, w, prefix + ".to_k", contextDim, inner),
                Params.linear(k, w, prefix + ".to_v", contextDim, inner),
                Params.linear(k, w, prefix + ".to_out.0", inner, queryDim),
                heads);
    }

    /** {@code y[batch, queries, queryDim]} from {@code x[batch, queries, queryDim]} attending to {@code context[batch, keys, contextDim]}. */
    void forward(float[] x, int batch, int queries, float[] context, int keys, float[] y, Workspace ws) {
        int mark = ws.mark();
        float[] q = ws.take((long) batch * queries * inner);
        float[] key = ws.take((long) batch * keys * inner);
        float[] value = ws.take((long) batch * keys * inner);
        float[] attended = ws.take((long) batch * queries * inner);
        k.linear(x, batch * queries, toQ, q);
        k.linear(context, batch * keys, toK, key);
        k.linear(context, batch * keys, toV, value);
        k.attention(q, key, value, batch, heads, queries, keys, inner / heads, scale, false, attended);
        k.linear(attended, batch * queries, toOut, y);
        ws.release(mark);
    }
}
