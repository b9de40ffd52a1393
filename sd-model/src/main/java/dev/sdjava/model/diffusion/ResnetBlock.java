package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/**
 * diffusers' ResnetBlock2D: {@code x + conv2(silu(norm2(conv1(silu(norm1(x))) + time)))}, where the residual
 * goes through a 1x1 conv when the channel count changes. U-Net resnets add a projection of the time embedding
 * per channel; VAE resnets have none.
 */
final class ResnetBlock {
    private final Kernels k;
    private final GroupNorm norm1;           // [in]
    private final Conv2d conv1;              // [out, in, 3, 3]
    private final LinearWeights timeEmbProj; // [out, timeEmbedDim], null in the VAE
    private final GroupNorm norm2;           // [out]
    private final Conv2d conv2;              // [out, out, 3, 3]
    private final Conv2d shortcut;           // [out, in, 1, 1], only when in != out
    final int in;
    final int out;

    private ResnetBlock(Kernels k, GroupNorm norm1, Conv2d conv1, LinearWeights timeEmbProj, GroupNorm norm2,
                        Conv2d conv2, Conv2d shortcut) {
        this.k = k;
        this.norm1 = norm1;
        this.conv1 = conv1;
        this.timeEmbProj = timeEmbProj;
        this.norm2 = norm2;
        this.conv2 = conv2;
        this.shortcut = shortcut;
        this.in = conv1.in;
        this.out = conv1.out;
    }

    /** {@code timeEmbedDim} 0: no time embedding (VAE). */
    static ResnetBlock load(Kernels k, Weights w, String prefix, int in, int out, int timeEmbedDim, float eps) {
        boolean hasShortcut = w.contains(prefix + ".conv_shortcut.weight");
        if (hasShortcut != (in != out)) {
            throw new IllegalArgumentException(prefix + ": a resnet from " + in + " to " + out + " channels "
                    + (in != out ? "needs" : "must not have") + " a tensor " + prefix + ".conv_shortcut.weight");
        }
        return new ResnetBlock(k,
                GroupNorm.load(k, w, prefix + ".norm1", in, eps),
                Conv2d.load(k, w, prefix + ".conv1", in, out, 3),
                timeEmbedDim == 0 ? null : Params.linear(k, w, prefix + ".time_emb_proj", timeEmbedDim, out),
                GroupNorm.load(k, w, prefix + ".norm2", out, eps),
                Conv2d.load(k, w, prefix + ".conv2", out, out, 3),
                hasShortcut ? Conv2d.load(k, w, prefix + ".conv_shortcut", in, out, 1) : null);
    }

    /**
     * {@code y[batch, out, height, width]} from {@code x[batch, in, height, width]}; {@code timeEmb[batch, timeEmbedDim]}
     * is the U-Net's time embedding after SiLU (unused, may be null, in the VAE). y must not alias x.
     */
    void forward(float[] x, int batch, int height, int width, float[] timeEmb, float[] y, Workspace ws) {
        int spatial = height * width;
        int mark = ws.mark();
        // y is free until conv2 writes it, so the normalised input goes there when it fits (whenever the block keeps
        // or widens the channels): one full-size buffer less.
        long normedSize = (long) batch * in * spatial;
        float[] normed = y.length >= normedSize ? y : ws.take(normedSize);
        norm1.forward(x, batch, spatial, true, normed);
        float[] h = ws.take((long) batch * out * spatial);
        hidden(normed, batch, height, width, timeEmb, h, ws);
        conv2.forward(h, batch, height, width, y);
        float[] residual = x;
        if (shortcut != null) {
            residual = h; // h is spent once conv2 has read it
            shortcut.forward(x, batch, height, width, residual);
        }
        k.add(residual, y, batch * out * spatial, y);
        ws.release(mark);
    }

    /**
     * As {@link #forward}, with the same results, but x is the caller's to lose (it holds garbage after). With a
     * shortcut conv that narrows the channels, the residual goes to y first, then x is normalised in place and
     * takes conv2's output: beside x and y only one buffer of the output's width is taken, where {@link #forward}
     * needs y or a temporary as wide as the input (the VAE decoder's 256 -> 128 resnet at 512x512: 256 MiB).
     */
    void forwardSpendingInput(float[] x, int batch, int height, int width, float[] timeEmb, float[] y, Workspace ws) {
        int spatial = height * width;
        long size = (long) batch * out * spatial;
        if (shortcut == null || x.length < size) {
            forward(x, batch, height, width, timeEmb, y, ws);
            return;
        }
        int mark = ws.mark();
        shortcut.forward(x, batch, height, width, y);
        norm1.forward(x, batch, spatial, true, x);
        float[] h = ws.take(size);
        hidden(x, batch, height, width, timeEmb, h, ws);
        conv2.forward(h, batch, height, width, x);
        k.add(y, x, (int) size, y);
        ws.release(mark);
    }

    /** {@code h = silu(norm2(conv1(normed) + time))}: the block's middle, between its two convolutions. */
    private void hidden(float[] normed, int batch, int height, int width, float[] timeEmb, float[] h, Workspace ws) {
        conv1.forward(normed, batch, height, width, h);
        if (timeEmbProj != null) {
            float[] bias = ws.take((long) batch * out);
            k.linear(timeEmb, batch, timeEmbProj, bias);
            k.addChannelBias(h, batch, out, height * width, bias);
        }
        norm2.forward(h, batch, height * width, true, h);
    }
}
