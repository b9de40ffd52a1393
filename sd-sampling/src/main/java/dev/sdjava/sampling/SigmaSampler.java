package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * The samplers that integrate in σ (k-diffusion's form, x = x₀ + σ·ε, as in Karras et al. 2022):
 * the model sees x/√(σ²+1), and img2img noises as x₀ + σ·noise.
 */
abstract sealed class SigmaSampler extends Sampler permits EulerSampler, HeunSampler, LmsSampler {

    SigmaSampler(Schedule schedule, PredictionType prediction, int size) {
        super(schedule, prediction, size);
    }

    /** x / √(σ²+1): the model expects unit-variance input. */
    @Override
    final void scaleModelInput(int i, float[] x, float[] out) {
        float sigma = schedule.sigma(i);
        float d = (float) Math.sqrt(sigma * sigma + 1.0f);
        for (int k = 0; k < size; k++) {
            out[k] = x[k] / d;
        }
    }

    @Override
    final float[] addNoiseCoefficients(int start) {
        return new float[] {1.0f, schedule.sigma(start)};
    }
}
