package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/**
 * Nearest-neighbour resize then a 3x3 conv. The target size is normally twice the input; the U-Net asks for the
 * size of the skip it concatenates next, which differs when the latent is not a multiple of 8 (pitfall 12).
 */
final class Upsample {
    private final Kernels k;
    private final Conv2d conv; // [channels, channels, 3, 3]

    private Upsample(Kernels k, Conv2d conv) {
        this.k = k;
        this.conv = conv;
    }

    static Upsample load(Kernels k, Weights w, String prefix, int channels) {
        return new Upsample(k, Conv2d.load(k, w, prefix + ".conv", channels, channels, 3));
    }

    /** {@code y[batch, channels, outHeight, outWidth]}; y may alias x (x is read only by the resize). */
    void forward(float[] x, int batch, int height, int width, int outHeight, int outWidth, float[] y, Workspace ws) {
        int mark = ws.mark();
        forward(x, batch, height, width, outHeight, outWidth, y, ws.take((long) batch * conv.in * outHeight * outWidth));
        ws.release(mark);
    }

    /** As above, resizing into {@code scratch}, which must alias neither x nor y: for callers that have a spare buffer. */
    void forward(float[] x, int batch, int height, int width, int outHeight, int outWidth, float[] y, float[] scratch) {
        k.upsampleNearest(x, batch * conv.in, height, width, outHeight, outWidth, scratch);
        conv.forward(scratch, batch, outHeight, outWidth, y);
    }
}
