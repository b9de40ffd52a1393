package dev.sdjava.model.text;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/** Causal multi-head self-attention over the token sequence. */
final class ClipAttention {
    private final Kernels kernels;
    private final LinearWeights qProj;   // [D, D] + [D]
    private final LinearWeights kProj;   // [D, D] + [D]
    private final LinearWeights vProj;   // [D, D] + [D]
    private final LinearWeights outProj; // [D, D] + [D]
    private final int heads;
    private final int headDim;

    ClipAttention(Kernels kernels, Weights w, int width, int heads) {
        this.kernels = kernels;
        this.qProj = kernels.prepareLinear(w.get("q_proj.weight"), w.get("q_proj.bias"));
        this.kProj = kernels.prepareLinear(w.get("k_proj.weight"), w.get("k_proj.bias"));
        this.vProj = kernels.prepareLinear(w.get("v_proj.weight"), w.get("v_proj.bias"));
        this.outProj = kernels.prepareLinear(w.get("out_proj.weight"), w.get("out_proj.bias"));
        this.heads = heads;
        this.headDim = width / heads;
    }

    /** {@code b.out = out_proj(softmax(q kᵀ / sqrt(head_dim) + causal mask) v)} of {@code b.h}. */
    void forward(ClipBuffers b, int batch, int tokens) {
        int rows = batch * tokens;
        kernels.linear(b.h, rows, qProj, b.q);
        kernels.linear(b.h, rows, kProj, b.k);
        kernels.linear(b.h, rows, vProj, b.v);
        kernels.attention(b.q, b.k, b.v, batch, heads, tokens, tokens, headDim, (float) (1 / Math.sqrt(headDim)), true, b.attention);
        kernels.linear(b.attention, rows, outProj, b.out);
    }
}
