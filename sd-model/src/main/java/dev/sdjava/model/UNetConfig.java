package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * The U-Net's shape, read from its tensors: the SD 1.x/2.x layout of resnet (+ spatial transformer)
 * levels, a mid block, and mirrored up levels with one resnet more.
 *
 * @param inChannels        latent channels in (4; 9 for inpainting)
 * @param outChannels       channels out (4)
 * @param blockWidths       channels per level (320, 640, 1280, 1280)
 * @param layersPerBlock    resnets per down level (2; up levels have one more)
 * @param attention         whether each down level has spatial transformers (true, true, true, false)
 * @param transformerDepth  transformer blocks per spatial transformer (1)
 * @param crossAttentionDim width of the text states (768 SD 1.x, 1024 SD 2.x)
 * @param linearProjection  proj_in/proj_out are Linear (SD 2.x) rather than 1x1 convs (SD 1.x)
 * @param timeEmbedDim      width of the time embedding (4 × blockWidths[0])
 */
public record UNetConfig(int inChannels, int outChannels, int[] blockWidths, int layersPerBlock, boolean[] attention,
                         int transformerDepth, int crossAttentionDim, boolean linearProjection, int timeEmbedDim) {

    public UNetConfig {
        blockWidths = blockWidths.clone();
        attention = attention.clone();
    }

    static UNetConfig detect(Map<String, Tensor> t) {
        int levels = NameMapping.indices(t.keySet(), "down_blocks.").size();
        int[] widths = new int[levels];
        boolean[] attention = new boolean[levels];
        String firstAttention = "mid_block.attentions.0.";
        for (int i = levels - 1; i >= 0; i--) {
            widths[i] = (int) Shapes.dim(t, 0, "down_blocks." + i + ".resnets.0.conv1.weight", "down_blocks." + i + ".resnets.0.norm2.weight");
            attention[i] = NameMapping.hasPrefix(t.keySet(), "down_blocks." + i + ".attentions.");
            if (attention[i]) {
                firstAttention = "down_blocks." + i + ".attentions.0.";
            }
        }
        return new UNetConfig(
                (int) Shapes.dim(t, 1, "conv_in.weight"),
                (int) Shapes.dim(t, 0, "conv_out.weight"),
                widths,
                NameMapping.indices(t.keySet(), "down_blocks.0.resnets.").size(),
                attention,
                Math.max(1, NameMapping.indices(t.keySet(), firstAttention + "transformer_blocks.").size()),
                (int) Shapes.dim(t, 1, firstAttention + "transformer_blocks.0.attn2.to_k.weight"),
                Shapes.rank(t, firstAttention + "proj_in.weight") == 2,
                (int) Shapes.dim(t, 0, "time_embedding.linear_1.weight"));
    }

    /** SD 2.x uses Linear projections in its transformers; SD 1.x 1x1 convs. */
    public ModelFamily family() {
        return linearProjection ? ModelFamily.SD2 : ModelFamily.SD1;
    }

    public int levels() {
        return blockWidths.length;
    }

    @Override
    public int[] blockWidths() {
        return blockWidths.clone();
    }

    @Override
    public boolean[] attention() {
        return attention.clone();
    }

    TensorSchema schema() {
        TensorSchema s = new TensorSchema();
        int levels = levels();
        int c0 = blockWidths[0];
        s.linear("time_embedding.linear_1", timeEmbedDim, c0).linear("time_embedding.linear_2", timeEmbedDim, timeEmbedDim);
        s.conv("conv_in", c0, inChannels, 3);
        int channels = c0;
        for (int i = 0; i < levels; i++) {
            int out = blockWidths[i];
            for (int j = 0; j < layersPerBlock; j++) {
                resnet(s, "down_blocks." + i + ".resnets." + j, channels, out);
                channels = out;
                if (attention[i]) {
                    transformer(s, "down_blocks." + i + ".attentions." + j, out);
                }
            }
            if (i < levels - 1) {
                s.conv("down_blocks." + i + ".downsamplers.0.conv", out, out, 3);
            }
        }
        resnet(s, "mid_block.resnets.0", channels, channels);
        transformer(s, "mid_block.attentions.0", channels);
        resnet(s, "mid_block.resnets.1", channels, channels);
        for (int i = 0; i < levels; i++) {
            int level = levels - 1 - i;
            int out = blockWidths[level];
            int skipOfLast = blockWidths[Math.max(level - 1, 0)]; // the last resnet takes the skip from the level's input
            for (int j = 0; j <= layersPerBlock; j++) {
                int skip = j == layersPerBlock ? skipOfLast : out;
                resnet(s, "up_blocks." + i + ".resnets." + j, channels + skip, out);
                channels = out;
                if (attention[level]) {
                    transformer(s, "up_blocks." + i + ".attentions." + j, out);
                }
            }
            if (i < levels - 1) {
                s.conv("up_blocks." + i + ".upsamplers.0.conv", out, out, 3);
            }
        }
        return s.norm("conv_norm_out", c0).conv("conv_out", outChannels, c0, 3);
    }

    private void resnet(TensorSchema s, String p, int in, int out) {
        s.norm(p + ".norm1", in).conv(p + ".conv1", out, in, 3).linear(p + ".time_emb_proj", out, timeEmbedDim)
                .norm(p + ".norm2", out).conv(p + ".conv2", out, out, 3);
        if (in != out) {
            s.conv(p + ".conv_shortcut", out, in, 1);
        }
    }

    private void transformer(TensorSchema s, String p, int c) {
        s.norm(p + ".norm", c);
        projection(s, p + ".proj_in", c);
        for (int d = 0; d < transformerDepth; d++) {
            String b = p + ".transformer_blocks." + d;
            s.norm(b + ".norm1", c).linearNoBias(b + ".attn1.to_q", c, c).linearNoBias(b + ".attn1.to_k", c, c)
                    .linearNoBias(b + ".attn1.to_v", c, c).linear(b + ".attn1.to_out.0", c, c)
                    .norm(b + ".norm2", c).linearNoBias(b + ".attn2.to_q", c, c)
                    .linearNoBias(b + ".attn2.to_k", c, crossAttentionDim).linearNoBias(b + ".attn2.to_v", c, crossAttentionDim)
                    .linear(b + ".attn2.to_out.0", c, c)
                    .norm(b + ".norm3", c).linear(b + ".ff.net.0.proj", 8L * c, c).linear(b + ".ff.net.2", c, 4L * c);
        }
        projection(s, p + ".proj_out", c);
    }

    private void projection(TensorSchema s, String p, int c) {
        if (linearProjection) {
            s.linear(p, c, c);
        } else {
            s.conv(p, c, c, 1);
        }
    }

    @Override
    public String toString() {
        return family() + " U-Net, widths " + Arrays.toString(blockWidths) + ", " + layersPerBlock + " layers per level, attention "
                + Arrays.toString(attention) + ", context " + crossAttentionDim + ", in " + inChannels;
    }
}
