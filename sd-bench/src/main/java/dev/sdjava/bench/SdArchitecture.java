package dev.sdjava.bench;

import java.util.Arrays;

/**
 * The hyper-parameters of an SD 1.x model, as far as the benchmarks need them: enough to name and shape
 * every tensor of a checkpoint ({@link CheckpointLayout}) and to count the FLOPs of every network
 * ({@link ArchitectureFlops}).
 *
 * @param unetChannels  U-Net width per level, e.g. 320, 640, 1280, 1280
 * @param unetLayers    resnets per down level (up levels have one more)
 * @param unetHeads     attention heads (SD 1.x: 8 at every level)
 * @param contextDim    cross-attention context width (the text encoder's hidden size)
 * @param vaeChannels   VAE width per level, e.g. 128, 256, 512, 512
 * @param vaeLayers     resnets per VAE encoder level (decoder levels have one more)
 * @param latentChannels latent channels (4)
 * @param textHidden    CLIP hidden size
 * @param textLayers    CLIP transformer layers
 * @param textHeads     CLIP attention heads
 * @param textMlp       CLIP MLP width
 * @param vocab         CLIP vocabulary size
 * @param tokens        CLIP context length (77)
 */
public record SdArchitecture(int[] unetChannels, int unetLayers, int unetHeads, int contextDim,
                             int[] vaeChannels, int vaeLayers, int latentChannels,
                             int textHidden, int textLayers, int textHeads, int textMlp, int vocab, int tokens) {

    /** Stable Diffusion 1.5 (runwayml/stable-diffusion-v1-5). */
    public static final SdArchitecture SD15 = new SdArchitecture(new int[] {320, 640, 1280, 1280}, 2, 8, 768,
            new int[] {128, 256, 512, 512}, 2, 4, 768, 12, 12, 3072, 49408, 77);

    public SdArchitecture {
        unetChannels = unetChannels.clone();
        vaeChannels = vaeChannels.clone();
    }

    /** The time-embedding width: four times the first level's. */
    public int timeEmbedDim() {
        return 4 * unetChannels[0];
    }

    /** Levels 0..levels-2 have cross-attention transformers; the deepest level has none (as in SD 1.x). */
    public int levels() {
        return unetChannels.length;
    }

    @Override
    public int[] unetChannels() {
        return unetChannels.clone();
    }

    @Override
    public int[] vaeChannels() {
        return vaeChannels.clone();
    }

    @Override
    public String toString() {
        return "U-Net " + Arrays.toString(unetChannels) + ", VAE " + Arrays.toString(vaeChannels) + ", CLIP "
                + textHidden + "x" + textLayers;
    }
}
