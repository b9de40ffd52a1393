package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * The VAE's shape, read from its tensors, and its latent scaling factor (from the config).
 *
 * @param inChannels     image channels (3)
 * @param outChannels    decoded image channels (3)
 * @param latentChannels latent channels (4)
 * @param blockWidths    encoder channels per level (128, 256, 512, 512); the decoder mirrors them
 * @param layersPerBlock encoder resnets per level (2; decoder levels have one more)
 * @param scalingFactor  latents = sample × this (0.18215)
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, int[] blockWidths, int layersPerBlock,
                        float scalingFactor) {

    /** SD 1.x and 2.x: {@code latents = vae_sample × 0.18215}. */
    public static final float DEFAULT_SCALING_FACTOR = 0.18215f;

    public VaeConfig {
        blockWidths = blockWidths.clone();
    }

    static VaeConfig detect(Map<String, Tensor> t, float scalingFactor) {
        int levels = NameMapping.indices(t.keySet(), "encoder.down_blocks.").size();
        int[] widths = new int[levels];
        for (int i = 0; i < levels; i++) {
            widths[i] = (int) Shapes.dim(t, 0, "encoder.down_blocks." + i + ".resnets.0.conv1.weight",
                    "encoder.down_blocks." + i + ".resnets.0.norm2.weight");
        }
        return new VaeConfig(
                (int) Shapes.dim(t, 1, "encoder.conv_in.weight"),
                (int) Shapes.dim(t, 0, "decoder.conv_out.weight"),
                (int) Shapes.dim(t, 0, "post_quant_conv.weight"),
                widths,
                NameMapping.indices(t.keySet(), "encoder.down_blocks.0.resnets.").size(),
                scalingFactor);
    }

    public int levels() {
        return blockWidths.length;
    }

    @Override
    public int[] blockWidths() {
        return blockWidths.clone();
    }

    TensorSchema schema() {
        TensorSchema s = new TensorSchema();
        int levels = levels();
        int c0 = blockWidths[0];
        int last = blockWidths[levels - 1];
        s.conv("encoder.conv_in", c0, inChannels, 3);
        int channels = c0;
        for (int i = 0; i < levels; i++) {
            int out = blockWidths[i];
            for (int j = 0; j < layersPerBlock; j++) {
                resnet(s, "encoder.down_blocks." + i + ".resnets." + j, channels, out);
                channels = out;
            }
            if (i < levels - 1) {
                s.conv("encoder.down_blocks." + i + ".downsamplers.0.conv", out, out, 3);
            }
        }
        mid(s, "encoder.mid_block", last);
        s.norm("encoder.conv_norm_out", last).conv("encoder.conv_out", 2L * latentChannels, last, 3);
        s.conv("quant_conv", 2L * latentChannels, 2L * latentChannels, 1).conv("post_quant_conv", latentChannels, latentChannels, 1);
        s.conv("decoder.conv_in", last, latentChannels, 3);
        mid(s, "decoder.mid_block", last);
        channels = last;
        for (int i = 0; i < levels; i++) {
            int out = blockWidths[levels - 1 - i];
            for (int j = 0; j <= layersPerBlock; j++) {
                resnet(s, "decoder.up_blocks." + i + ".resnets." + j, channels, out);
                channels = out;
            }
            if (i < levels - 1) {
                s.conv("decoder.up_blocks." + i + ".upsamplers.0.conv", out, out, 3);
            }
        }
        return s.norm("decoder.conv_norm_out", c0).conv("decoder.conv_out", outChannels, c0, 3);
    }

    private static void resnet(TensorSchema s, String p, int in, int out) {
        s.norm(p + ".norm1", in).conv(p + ".conv1", out, in, 3).norm(p + ".norm2", out).conv(p + ".conv2", out, out, 3);
        if (in != out) {
            s.conv(p + ".conv_shortcut", out, in, 1);
        }
    }

    /** Resnet, single-head attention over the pixels (Linear q/k/v/out), resnet. */
    private static void mid(TensorSchema s, String p, int c) {
        resnet(s, p + ".resnets.0", c, c);
        String a = p + ".attentions.0";
        s.norm(a + ".group_norm", c).linear(a + ".to_q", c, c).linear(a + ".to_k", c, c).linear(a + ".to_v", c, c)
                .linear(a + ".to_out.0", c, c);
        resnet(s, p + ".resnets.1", c, c);
    }

    @Override
    public String toString() {
        return "VAE, widths " + Arrays.toString(blockWidths) + ", " + layersPerBlock + " layers per level, latent " + latentChannels
                + ", scaling " + scalingFactor;
    }
}
