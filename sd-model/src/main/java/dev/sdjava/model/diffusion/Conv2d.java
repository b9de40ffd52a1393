package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.ConvWeights;
import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/** A square convolution with bias; {@link #forward} is the stride-1 "same" form (3x3 pad 1, 1x1 pad 0). */
final class Conv2d {
    private final Kernels k;
    private final ConvWeights w; // [out, in, size, size]
    private final int size;
    final int in;
    final int out;

    private Conv2d(Kernels k, ConvWeights w, int in, int out, int size) {
        this.k = k;
        this.w = w;
        this.in = in;
        this.out = out;
        this.size = size;
    }

    static Conv2d load(Kernels k, Weights w, String name, int in, int out, int size) {
        return new Conv2d(k, Params.conv(k, w, name, in, out, size), in, out, size);
    }

    /** {@code y[batch, out, height, width] = conv(x[batch, in, height, width])}, zero padding {@code size / 2}. */
    void forward(float[] x, int batch, int height, int width, float[] y) {
        k.conv2d(x, batch, height, width, w, 1, size / 2, size / 2, height, width, y);
    }

    /** A stride-2 application with the given top/left padding and output size (right/bottom padding is implied). */
    void forwardStride2(float[] x, int batch, int height, int width, int pad, int outHeight, int outWidth, float[] y) {
        k.conv2d(x, batch, height, width, w, 2, pad, pad, outHeight, outWidth, y);
    }
}
