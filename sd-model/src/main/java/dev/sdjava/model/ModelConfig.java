package dev.sdjava.model;

/**
 * Everything a loaded model is, besides its weights: the shapes read from the tensors and what only
 * configs can say (attention heads, prediction type, noise schedule, VAE scaling).
 */
public record ModelConfig(ModelFamily family, TextEncoderConfig textEncoder, UNetConfig unet, VaeConfig vae,
                          AttentionHeads unetHeads, SchedulerConfig scheduler, int sampleSize) {

    /**
     * The latent side the model was trained at ({@code sampleSize}): diffusers' {@code unet/config.json}
     * {@code sample_size}, an LDM yaml's {@code image_size}, else the family's (SD 1.x and SD 2.x base 64,
     * SD 2.x-v 96).
     */
    static int defaultSampleSize(ModelFamily family, PredictionType prediction) {
        return family == ModelFamily.SD2 && prediction == PredictionType.V_PREDICTION ? 96 : 64;
    }

    /** The image side in pixels the model was trained at (512 for SD 1.x, 768 for SD 2.x-v). */
    public int imageSize() {
        return sampleSize << (vae.blockWidths().length - 1);
    }

    public PredictionType predictionType() {
        return scheduler.predictionType();
    }

    public float vaeScalingFactor() {
        return vae.scalingFactor();
    }
}
