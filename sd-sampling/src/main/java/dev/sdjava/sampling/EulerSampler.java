package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * Euler's method on the probability-flow ODE in σ (Karras et al. 2022, Algorithm 1 without
 * churn), optionally ancestral: step down to σ_down, then add fresh noise of size σ_up
 * (drawn on every step, the last one too).
 */
final class EulerSampler extends SigmaSampler {
    private final boolean ancestral;

    EulerSampler(Schedule schedule, PredictionType prediction, int size, boolean ancestral) {
        super(schedule, prediction, size);
        this.ancestral = ancestral;
    }

    @Override
    void reset() {}

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        float sigma = schedule.sigma(i);
        float sigmaNext = schedule.sigma(i + 1);
        sigmaDenoised(sigma, modelOutput, x);
        if (!ancestral) {
            float dt = sigmaNext - sigma;
            for (int k = 0; k < size; k++) {
                x[k] = x[k] + (x[k] - denoised[k]) / sigma * dt;
            }
            return;
        }
        float sigmaUp = (float) Math.sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma));
        float sigmaDown = (float) Math.sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp);
        float dt = sigmaDown - sigma;
        drawNoise(generator);
        for (int k = 0; k < size; k++) {
            x[k] = x[k] + (x[k] - denoised[k]) / sigma * dt + noise[k] * sigmaUp;
        }
    }
}
