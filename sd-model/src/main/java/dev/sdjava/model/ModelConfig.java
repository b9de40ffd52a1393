package dev.sdjava.model;

/**
 * Everything a loaded model is, besides its weights: the shapes read from the tensors and what only
 * configs can say (attention heads, prediction type, noise schedule, VAE scaling).
 */
public record ModelConfig(ModelFamily family, TextEncoderConfig textEncoder, UNetConfig unet, VaeConfig vae,
                          AttentionHeads unetHeads, SchedulerConfig scheduler) {

    public PredictionType predictionType() {
        return scheduler.predictionType();
    }

    public float vaeScalingFactor() {
        return vae.scalingFactor();
    }
}
