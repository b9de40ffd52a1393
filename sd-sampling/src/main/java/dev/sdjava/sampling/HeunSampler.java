package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * Heun's method (Karras et al. 2022, Algorithm 1): an Euler predictor to σ', then a corrector
 * evaluated there that restarts from the predictor's x with the mean of both slopes. The schedule
 * lists every interior σ twice, so evaluations alternate predictor and corrector; the last step
 * (to σ = 0) is a plain Euler step.
 */
final class HeunSampler extends SigmaSampler {
    private final float[] firstDerivative;
    private final float[] firstSample;
    private boolean predictorNext;
    private float dt;

    HeunSampler(Schedule schedule, PredictionType prediction, int size) {
        super(schedule, prediction, size);
        firstDerivative = new float[size];
        firstSample = new float[size];
    }

    @Override
    void reset() {
        predictorNext = true;
    }

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        if (predictorNext) {
            float sigma = schedule.sigma(i);
            float sigmaNext = schedule.sigma(i + 1);
            sigmaDenoised(sigma, modelOutput, x);
            dt = sigmaNext - sigma;
            for (int k = 0; k < size; k++) {
                float d = (x[k] - denoised[k]) / sigma;
                firstDerivative[k] = d;
                firstSample[k] = x[k];
                x[k] = x[k] + d * dt;
            }
        } else {
            float sigmaNext = schedule.sigma(i);
            sigmaDenoised(sigmaNext, modelOutput, x);
            for (int k = 0; k < size; k++) {
                float d = (firstDerivative[k] + (x[k] - denoised[k]) / sigmaNext) / 2.0f;
                x[k] = firstSample[k] + d * dt;
            }
        }
        predictorNext = !predictorNext;
    }
}
