package dev.sdjava.model.diffusion;

import dev.sdjava.model.Weights;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a UNet2DConditionModel, read off its weights (diffusers names).
 *
 * @param inChannels        latent channels in ({@code conv_in}; 4, or 9 for inpainting)
 * @param outChannels       channels out ({@code conv_out})
 * @param blockChannels     channels of each down level (SD 1.5: 320, 640, 1280, 1280)
 * @param layersPerBlock    resnets per down level (up levels have one more)
 * @param crossAttention    per down level, whether its resnets are followed by a transformer (up levels mirror it)
 * @param crossAttentionDim width of the text embeddings the transformers attend to (768 SD 1, 1024 SD 2)
 * @param timeEmbedDim      width of the time embedding ({@code time_embedding.linear_1} output)
 * @param linearProjection  whether {@code proj_in/proj_out} are stored as linear layers (SD 2) rather than 1x1 convs (SD 1)
 */
public record UNetConfig(int inChannels, int outChannels, List<Integer> blockChannels, int layersPerBlock,
                         List<Boolean> crossAttention, int crossAttentionDim, int timeEmbedDim, boolean linearProjection) {

    public UNetConfig {
        blockChannels = List.copyOf(blockChannels);
        crossAttention = List.copyOf(crossAttention);
        if (blockChannels.isEmpty() || blockChannels.size() != crossAttention.size()) {
            throw new IllegalArgumentException("need one channel count and one attention flag per level, got "
                    + blockChannels + " and " + crossAttention);
        }
    }

    public int levels() {
        return blockChannels.size();
    }

    /** Reads the configuration from the tensor names and shapes of a U-Net's weights. */
    public static UNetConfig detect(Weights unet) {
        int levels = Params.count(unet, "down_blocks", "resnets.0.conv1.weight");
        if (levels == 0) {
            throw new IllegalArgumentException("not a U-Net: no tensor down_blocks.0.resnets.0.conv1.weight");
        }
        List<Integer> channels = new ArrayList<>();
        List<Boolean> attention = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            channels.add(Params.dim(unet, "down_blocks." + i + ".resnets.0.conv1.weight", 0));
            attention.add(unet.contains("down_blocks." + i + ".attentions.0.proj_in.weight"));
        }
        String transformer = "mid_block.attentions.0";
        return new UNetConfig(
                Params.dim(unet, "conv_in.weight", 1),
                Params.dim(unet, "conv_out.weight", 0),
                channels,
                Params.count(unet, "down_blocks.0.resnets", "conv1.weight"),
                attention,
                Params.dim(unet, transformer + ".transformer_blocks.0.attn2.to_k.weight", 1),
                Params.dim(unet, "time_embedding.linear_1.weight", 0),
                unet.get(transformer + ".proj_in.weight").rank() == 2);
    }
}
