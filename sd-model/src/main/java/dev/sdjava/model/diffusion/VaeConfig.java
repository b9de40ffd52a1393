package dev.sdjava.model.diffusion;

import dev.sdjava.model.Weights;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of an AutoencoderKL, read off its weights (diffusers names). The scaling factor (0.18215 for
 * SD 1/2) is not in the weights: it comes from the VAE's config and is passed to {@link VaeDecoder#decode} and
 * {@link VaeEncoder#sample}.
 *
 * @param imageChannels  channels of the image (3), in for the encoder, out for the decoder
 * @param latentChannels latent channels (4)
 * @param blockChannels  channels of each encoder level (SD: 128, 256, 512, 512); the decoder runs them in reverse
 * @param layersPerBlock resnets per encoder level (the decoder's levels have one more)
 */
public record VaeConfig(int imageChannels, int latentChannels, List<Integer> blockChannels, int layersPerBlock) {

    public VaeConfig {
        blockChannels = List.copyOf(blockChannels);
        if (blockChannels.isEmpty()) {
            throw new IllegalArgumentException("a VAE needs at least one level");
        }
    }

    public int levels() {
        return blockChannels.size();
    }

    /** Image pixels per latent pixel along each axis: 2 per level but the last (8 for SD). */
    public int downscale() {
        return 1 << (levels() - 1);
    }

    /** Reads the configuration from the tensor names and shapes of a VAE's weights (encoder and decoder). */
    public static VaeConfig detect(Weights vae) {
        int levels = Params.count(vae, "encoder.down_blocks", "resnets.0.conv1.weight");
        if (levels == 0) {
            throw new IllegalArgumentException("not a VAE: no tensor encoder.down_blocks.0.resnets.0.conv1.weight");
        }
        List<Integer> channels = new ArrayList<>();
        for (int i = 0; i < levels; i++) {
            channels.add(Params.dim(vae, "encoder.down_blocks." + i + ".resnets.0.conv1.weight", 0));
        }
        return new VaeConfig(
                Params.dim(vae, "encoder.conv_in.weight", 1),
                Params.dim(vae, "decoder.conv_in.weight", 1),
                channels,
                Params.count(vae, "encoder.down_blocks.0.resnets", "conv1.weight"));
    }
}
