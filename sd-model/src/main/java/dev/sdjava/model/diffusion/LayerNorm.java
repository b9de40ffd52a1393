package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/** LayerNorm over the channels of a token sequence, eps 1e-5 (PyTorch's default, which diffusers keeps). */
final class LayerNorm {
    private static final float EPS = 1e-5f;

    private final Kernels k;
    private final float[] gamma; // [dim]
    private final float[] beta;  // [dim]

    private LayerNorm(Kernels k, float[] gamma, float[] beta) {
        this.k = k;
        this.gamma = gamma;
        this.beta = beta;
    }

    static LayerNorm load(Kernels k, Weights w, String name, int dim) {
        return new LayerNorm(k, Params.vector(w, name + ".weight", dim), Params.vector(w, name + ".bias", dim));
    }

    /** {@code y[rows, dim] = norm(x)}; y may alias x. */
    void forward(float[] x, int rows, float[] y) {
        k.layerNorm(x, rows, gamma.length, EPS, gamma, beta, y);
    }
}
