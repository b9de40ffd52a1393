package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/** DDIM with eta 0 (deterministic): x' = √ᾱ'·x₀ + √(1−ᾱ')·ε, stepping t → t − T/N. */
final class DdimSampler extends Sampler {
    DdimSampler(Schedule schedule, PredictionType prediction, int size) {
        super(schedule, prediction, size);
    }

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        int t = (int) schedule.timestep(i);
        int prevT = t - noiseSchedule.numTrainTimesteps() / schedule.steps();
        float alpha = noiseSchedule.alphaCumprod(t);
        // below t = 0 diffusers uses ᾱ[0] (set_alpha_to_one = False)
        float alphaPrev = noiseSchedule.alphaCumprod(Math.max(prevT, 0));
        alphaDenoised(alpha, modelOutput, x);
        float sqrtA = (float) Math.sqrt(alpha);
        float sqrtB = (float) Math.sqrt(1.0f - alpha);
        float sqrtAPrev = (float) Math.sqrt(alphaPrev);
        float direction = (float) Math.sqrt(1.0f - alphaPrev);
        for (int k = 0; k < size; k++) {
            float eps = prediction == PredictionType.EPSILON ? modelOutput[k] : sqrtA * modelOutput[k] + sqrtB * x[k];
            x[k] = sqrtAPrev * denoised[k] + direction * eps;
        }
    }

    @Override
    void reset() {}
}
