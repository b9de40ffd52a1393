package dev.sdjava.model.text;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;
import dev.sdjava.tensor.Tensor;

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
        this.qProj = ClipAttention.linear(kernels, w, "q_proj");
        this.kProj = ClipAttention.linear(kernels, w, "k_proj");
        this.vProj = ClipAttention.linear(kernels, w, "v_proj");
        this.outProj = ClipAttention.linear(kernels, w, "out_proj");
        this.heads = heads;
        this.headDim = width / heads;
    }

    /** {@code name.weight} and {@code name.bias} as a linear layer; the stored tensors are unloaded once copied. */
    static LinearWeights linear(Kernels kernels, Weights w, String name) {
        Tensor weight = w.get(name + ".weight");
        Tensor bias = w.get(name + ".bias");
        LinearWeights prepared = kernels.prepareLinear(weight, bias);
        weight.unload();
        bias.unload();
        return prepared;
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
