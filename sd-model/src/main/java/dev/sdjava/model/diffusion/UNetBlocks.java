package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/**
 * One U-Net block on its own, for benchmarks that trace a slow step to its block: each factory loads the block
 * from weights under its diffusers prefix (e.g. {@code down_blocks.0.resnets.0}) with the loader the {@link UNet}
 * uses, binds it to the caller's activations and returns one forward call. The blocks themselves stay
 * package-private; the pipeline never needs this class.
 */
public final class UNetBlocks {
    private UNetBlocks() {
    }

    /** A resnet ({@code timeEmbedDim} > 0: the U-Net's form): {@code y[batch, out, h, w]} from {@code x[batch, in, h, w]} and {@code timeEmb[batch, timeEmbedDim]} (after SiLU). */
    public static Runnable resnet(Kernels k, Weights w, String prefix, int in, int out, int timeEmbedDim,
                                  float[] x, int batch, int height, int width, float[] timeEmb, float[] y) {
        ResnetBlock block = ResnetBlock.load(k, w, prefix, in, out, timeEmbedDim, UNet.RESNET_EPS);
        require(prefix, "x", x, (long) batch * in * height * width);
        require(prefix, "timeEmb", timeEmb, (long) batch * timeEmbedDim);
        require(prefix, "y", y, (long) batch * out * height * width);
        Workspace ws = new Workspace();
        return () -> block.forward(x, batch, height, width, timeEmb, y, ws);
    }

    /** A spatial transformer of depth 1: {@code y[batch, channels, h, w]} from x of that shape and {@code context[batch, contextTokens, contextDim]}. */
    public static Runnable transformer(Kernels k, Weights w, String prefix, int channels, int contextDim, int heads,
                                       float[] x, int batch, int height, int width, float[] context, int contextTokens,
                                       float[] y) {
        SpatialTransformer block = SpatialTransformer.load(k, w, prefix, channels, 1, contextDim, heads);
        require(prefix, "x", x, (long) batch * channels * height * width);
        require(prefix, "context", context, (long) batch * contextTokens * contextDim);
        require(prefix, "y", y, (long) batch * channels * height * width);
        Workspace ws = new Workspace();
        return () -> block.forward(x, batch, height, width, context, contextTokens, y, ws);
    }

    /** The U-Net's downsampler: {@code y[batch, channels, ceil(h/2), ceil(w/2)]} from {@code x[batch, channels, h, w]}. */
    public static Runnable downsample(Kernels k, Weights w, String prefix, int channels,
                                      float[] x, int batch, int height, int width, float[] y) {
        Downsample block = Downsample.symmetric(k, w, prefix, channels);
        require(prefix, "x", x, (long) batch * channels * height * width);
        require(prefix, "y", y, (long) batch * channels * block.outSize(height) * block.outSize(width));
        return () -> block.forward(x, batch, height, width, y);
    }

    /** The U-Net's upsampler: {@code y[batch, channels, outHeight, outWidth]} from {@code x[batch, channels, h, w]}. */
    public static Runnable upsample(Kernels k, Weights w, String prefix, int channels, float[] x, int batch,
                                    int height, int width, int outHeight, int outWidth, float[] y) {
        Upsample block = Upsample.load(k, w, prefix, channels);
        require(prefix, "x", x, (long) batch * channels * height * width);
        require(prefix, "y", y, (long) batch * channels * outHeight * outWidth);
        Workspace ws = new Workspace();
        return () -> block.forward(x, batch, height, width, outHeight, outWidth, y, ws);
    }

    private static void require(String prefix, String name, float[] array, long length) {
        if (array == null || array.length < length) {
            throw new IllegalArgumentException(prefix + ": " + name + " has " + (array == null ? 0 : array.length)
                    + " floats, the shape needs " + length);
        }
    }
}
