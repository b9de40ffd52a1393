package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/** The transformer's GEGLU feed-forward: {@code (a | g) = proj(x); out(a · gelu(g))}. */
final class FeedForward {
    private final Kernels k;
    private final LinearWeights proj; // [2 · inner, dim] (ff.net.0.proj)
    private final LinearWeights out;  // [dim, inner]     (ff.net.2)
    private final int inner;

    private FeedForward(Kernels k, LinearWeights proj, LinearWeights out, int inner) {
        this.k = k;
        this.proj = proj;
        this.out = out;
        this.inner = inner;
    }

    static FeedForward load(Kernels k, Weights w, String prefix, int dim) {
        int inner = Params.dim(w, prefix + ".net.2.weight", 1);
        return new FeedForward(k,
                Params.linear(k, w, prefix + ".net.0.proj", dim, 2 * inner),
                Params.linear(k, w, prefix + ".net.2", inner, dim),
                inner);
    }

    /** {@code y[rows, dim]} from {@code x[rows, dim]}. */
    void forward(float[] x, int rows, float[] y, Workspace ws) {
        int mark = ws.mark();
        float[] projected = ws.take((long) rows * 2 * inner);
        float[] gated = ws.take((long) rows * inner);
        k.linear(x, rows, proj, projected);
        k.geglu(projected, rows, inner, gated);
        k.linear(gated, rows, out, y);
        ws.release(mark);
    }
}
