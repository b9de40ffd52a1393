package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/** The transformer's GEGLU feed-forward: {@code out(a · gelu(g))} with {@code (a | g) = proj(x)}. */
final class FeedForward {
    private final Kernels k;
    private final LinearWeights value; // [inner, dim] (ff.net.0.proj, first half of its rows)
    private final LinearWeights gate;  // [inner, dim] (ff.net.0.proj, second half)
    private final LinearWeights out;   // [dim, inner] (ff.net.2)
    private final int inner;

    private FeedForward(Kernels k, LinearWeights value, LinearWeights gate, LinearWeights out, int inner) {
        this.k = k;
        this.value = value;
        this.gate = gate;
        this.out = out;
        this.inner = inner;
    }

    static FeedForward load(Kernels k, Weights w, String prefix, int dim) {
        int inner = Params.dim(w, prefix + ".net.2.weight", 1);
        LinearWeights[] halves = Params.linearHalves(k, w, prefix + ".net.0.proj", dim, inner);
        return new FeedForward(k, halves[0], halves[1], Params.linear(k, w, prefix + ".net.2", inner, dim), inner);
    }

    /** {@code y[rows, dim]} from {@code x[rows, dim]}. */
    void forward(float[] x, int rows, float[] y, Workspace ws) {
        int mark = ws.mark();
        float[] gated = ws.take((long) rows * inner);
        k.geglu(x, rows, value, gate, gated);
        k.linear(gated, rows, out, y);
        ws.release(mark);
    }
}
