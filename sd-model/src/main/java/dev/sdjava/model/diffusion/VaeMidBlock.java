package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;

/** The middle of the VAE encoder and decoder alike: resnet, self-attention, resnet, at the latent resolution. */
final class VaeMidBlock {
    private final ResnetBlock resnet1;
    private final VaeAttention attention;
    private final ResnetBlock resnet2;

    private VaeMidBlock(ResnetBlock resnet1, VaeAttention attention, ResnetBlock resnet2) {
        this.resnet1 = resnet1;
        this.attention = attention;
        this.resnet2 = resnet2;
    }

    static VaeMidBlock load(Kernels k, Weights w, String prefix, int channels) {
        return new VaeMidBlock(
                ResnetBlock.load(k, w, prefix + ".resnets.0", channels, channels, 0, VaeDecoder.EPS),
                VaeAttention.load(k, w, prefix + ".attentions.0", channels),
                ResnetBlock.load(k, w, prefix + ".resnets.1", channels, channels, 0, VaeDecoder.EPS));
    }

    /** {@code y[batch, channels, height, width]}; y must not alias x. */
    void forward(float[] x, int batch, int height, int width, float[] y, Workspace ws) {
        int mark = ws.mark();
        float[] h = ws.take((long) batch * resnet1.out * height * width);
        resnet1.forward(x, batch, height, width, null, h, ws);
        attention.forward(h, batch, height, width, h, ws);
        resnet2.forward(h, batch, height, width, null, y, ws);
        ws.release(mark);
    }
}
