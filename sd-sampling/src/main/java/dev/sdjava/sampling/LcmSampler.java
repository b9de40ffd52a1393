package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * Latent-consistency sampling (Luo et al. 2023): each step maps x straight to a denoised
 * estimate c_out·x₀ + c_skip·x, then (except at the last step) re-noises it to the next timestep
 * with fresh noise.
 */
final class LcmSampler extends Sampler {
    private static final float SIGMA_DATA_SQUARED = 0.25f;
    private static final float TIMESTEP_SCALING = 10.0f;

    LcmSampler(Schedule schedule, PredictionType prediction, int size) {
        super(schedule, prediction, size);
    }

    @Override
    void reset() {}

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        int t = (int) schedule.timestep(i);
        boolean last = i == schedule.length() - 1;
        int prevT = last ? t : (int) schedule.timestep(i + 1);
        float alpha = noiseSchedule.alphaCumprod(t);
        float alphaPrev = noiseSchedule.alphaCumprod(prevT);
        float scaled = t * TIMESTEP_SCALING;
        float cSkip = SIGMA_DATA_SQUARED / (scaled * scaled + SIGMA_DATA_SQUARED);
        float cOut = scaled / (float) Math.sqrt(scaled * scaled + SIGMA_DATA_SQUARED);
        // x₀ first, then the consistency "denoised" replaces it in the buffer
        alphaDenoised(alpha, modelOutput, x);
        for (int k = 0; k < size; k++) {
            denoised[k] = cOut * denoised[k] + cSkip * x[k];
        }
        if (last) {
            System.arraycopy(denoised, 0, x, 0, size);
            return;
        }
        drawNoise(generator);
        float sqrtAPrev = (float) Math.sqrt(alphaPrev);
        float sqrtBPrev = (float) Math.sqrt(1.0f - alphaPrev);
        for (int k = 0; k < size; k++) {
            x[k] = sqrtAPrev * denoised[k] + sqrtBPrev * noise[k];
        }
    }
}
