package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/** GroupNorm with a learned scale and shift, optionally followed by SiLU (fused: the pair always comes together in a resnet). */
final class GroupNorm {
    /** Every GroupNorm in SD's U-Net and VAE uses 32 groups ({@code norm_num_groups}, not stored in the weights). */
    static final int GROUPS = 32;

    private final Kernels k;
    private final float[] gamma; // [channels]
    private final float[] beta;  // [channels]
    private final int channels;
    private final float eps;

    private GroupNorm(Kernels k, float[] gamma, float[] beta, float eps) {
        this.k = k;
        this.gamma = gamma;
        this.beta = beta;
        this.channels = gamma.length;
        this.eps = eps;
    }

    static GroupNorm load(Kernels k, Weights w, String name, int channels, float eps) {
        if (channels % GROUPS != 0) {
            throw new IllegalArgumentException(name + ": " + channels + " channels do not split into " + GROUPS + " groups");
        }
        return new GroupNorm(k, Params.vector(w, name + ".weight", channels), Params.vector(w, name + ".bias", channels), eps);
    }

    /** {@code y = [silu](norm(x))} over {@code x[batch, channels, spatial]}; y may alias x. */
    void forward(float[] x, int batch, int spatial, boolean silu, float[] y) {
        k.groupNorm(x, batch, channels, spatial, GROUPS, eps, gamma, beta, silu, y);
    }
}
