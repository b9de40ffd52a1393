package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/**
 * Halves the resolution with a 3x3 stride-2 conv. The U-Net pads one pixel on every side, so an odd size rounds
 * up (12 → 6 → 3 → 2); the VAE encoder pads only right and bottom by one (pitfall 10).
 */
final class Downsample {
    private final Conv2d conv; // [channels, channels, 3, 3]
    private final boolean padRightBottomOnly;

    private Downsample(Conv2d conv, boolean padRightBottomOnly) {
        this.conv = conv;
        this.padRightBottomOnly = padRightBottomOnly;
    }

    /** The U-Net's form ({@code padding=1}). */
    static Downsample symmetric(Kernels k, Weights w, String prefix, int channels) {
        return new Downsample(Conv2d.load(k, w, prefix + ".conv", channels, channels, 3), false);
    }

    /** The VAE encoder's form (pad right/bottom by one, then {@code padding=0}). */
    static Downsample asymmetric(Kernels k, Weights w, String prefix, int channels) {
        return new Downsample(Conv2d.load(k, w, prefix + ".conv", channels, channels, 3), true);
    }

    /** Output height or width for an input of {@code size}. */
    int outSize(int size) {
        return padRightBottomOnly ? (size + 1 - 3) / 2 + 1 : (size + 2 - 3) / 2 + 1;
    }

    void forward(float[] x, int batch, int height, int width, float[] y) {
        conv.forwardStride2(x, batch, height, width, padRightBottomOnly ? 0 : 1, outSize(height), outSize(width), y);
    }
}
