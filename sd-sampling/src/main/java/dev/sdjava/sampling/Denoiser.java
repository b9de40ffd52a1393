package dev.sdjava.sampling;

/**
 * The model a sampler drives: fills {@code modelOutput} with the raw prediction (ε or v, see
 * {@link dev.sdjava.model.PredictionType}) for {@code modelInput}, a latent the sampler has already scaled, at
 * {@code timestep}. The pipeline plugs the U-Net (with classifier-free guidance) in here. The
 * arrays belong to the sampler and are reused across steps: do not keep them.
 */
@FunctionalInterface
public interface Denoiser {
    void predict(float[] modelInput, float timestep, float[] modelOutput);
}
