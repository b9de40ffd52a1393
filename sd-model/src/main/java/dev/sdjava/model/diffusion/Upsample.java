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
    /**
     * Output rows per band of {@link #forwardInBands}: each band's convolution covers 4 rows more than it keeps (6%),
     * and its buffers hold 68 rows (two of 36 MB for 256 channels 512 wide).
     */
    private static final int BAND_ROWS = 64;

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
        float[] resized = ws.take((long) batch * conv.in * outHeight * outWidth);
        k.upsampleNearest(x, batch * conv.in, height, width, outHeight, outWidth, resized);
        conv.forward(resized, batch, outHeight, outWidth, y);
        ws.release(mark);
    }

    /**
     * As {@link #forward} for an exact doubling, with the resized input made a band of {@link #BAND_ROWS} output rows
     * at a time rather than whole (the VAE decoder's last upsampler resizes 256 channels to 512x512: 256 MiB). A
     * band is resized with two more rows on each side where the image has them, convolved as an image of its own,
     * and the rows whose 3x3 neighbourhood it holds whole are kept: the same sums as over the whole image, rounded
     * differently (a band's Winograd tiles start at its first row). y must not alias x.
     */
    void forwardInBands(float[] x, int batch, int height, int width, float[] y, Workspace ws) {
        int outHeight = 2 * height, outWidth = 2 * width;
        if (outHeight <= BAND_ROWS) {
            forward(x, batch, height, width, outHeight, outWidth, y, ws);
            return;
        }
        int planes = batch * conv.in, bandInput = BAND_ROWS / 2 + 2, mark = ws.mark();
        // The largest first: a resnet's scratch, taken next, reuses these workspace slots.
        float[] convolved = ws.take((long) planes * 2 * bandInput * outWidth);
        float[] resized = ws.take((long) planes * 2 * bandInput * outWidth);
        float[] rows = ws.take((long) planes * bandInput * width);
        for (int r0 = 0; r0 < outHeight; r0 += BAND_ROWS) {
            int r1 = Math.min(outHeight, r0 + BAND_ROWS);
            // Input rows [i0, i1) resize to output rows [2·i0, 2·i1): from r0 - 2 to r1 + 2, or the image's edge.
            int i0 = Math.max(0, r0 / 2 - 1), i1 = Math.min(height, r1 / 2 + 1), n = i1 - i0;
            for (int p = 0; p < planes; p++) {
                System.arraycopy(x, (p * height + i0) * width, rows, p * n * width, n * width);
            }
            k.upsampleNearest(rows, planes, n, width, 2 * n, outWidth, resized);
            conv.forward(resized, batch, 2 * n, outWidth, convolved);
            for (int p = 0; p < batch * conv.out; p++) {
                System.arraycopy(convolved, (p * 2 * n + r0 - 2 * i0) * outWidth, y, (p * outHeight + r0) * outWidth,
                        (r1 - r0) * outWidth);
            }
        }
        ws.release(mark);
    }
}
