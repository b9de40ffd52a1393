package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * DPM-Solver++(2M) (Lu et al. 2022), multistep, midpoint form, on x₀ predictions in the
 * half-log-SNR λ = ln(α/σ); optionally its SDE variant, which adds noise every step. The first
 * step and the last (to σ = 0) are first order. Latents are not scaled by σ (init noise σ is 1).
 */
final class DpmSolverSampler extends Sampler {
    private final boolean sde;
    /** x₀ of the previous step (m₁); {@code denoised} holds the current one (m₀). */
    private final float[] previousDenoised;
    private int lowerOrderSteps;

    DpmSolverSampler(Schedule schedule, PredictionType prediction, int size, boolean sde) {
        super(schedule, prediction, size);
        this.sde = sde;
        previousDenoised = new float[size];
    }

    @Override
    void reset() {
        lowerOrderSteps = 0;
    }

    /** α_t = 1/√(σ²+1). */
    private static float alpha(float sigma) {
        return 1.0f / (float) Math.sqrt(sigma * sigma + 1.0f);
    }

    /** λ = ln α_t − ln σ_t with σ_t = σ·α_t (+∞ at σ = 0). */
    private static float lambda(float sigma) {
        float alpha = alpha(sigma);
        return (float) Math.log(alpha) - (float) Math.log(sigma * alpha);
    }

    @Override
    float[] addNoiseCoefficients(int start) {
        float sigma = schedule.sigma(start);
        float alpha = alpha(sigma);
        return new float[] {alpha, sigma * alpha};
    }

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        float sigmaS = schedule.sigma(i);
        float alphaS = alpha(sigmaS);
        float sigmaTs = sigmaS * alphaS;
        // keep the last x₀ as m₁, then compute m₀ into the base class's buffer
        System.arraycopy(denoised, 0, previousDenoised, 0, size);
        if (prediction == PredictionType.EPSILON) {
            for (int k = 0; k < size; k++) {
                denoised[k] = (x[k] - sigmaTs * modelOutput[k]) / alphaS;
            }
        } else {
            for (int k = 0; k < size; k++) {
                denoised[k] = alphaS * x[k] - sigmaTs * modelOutput[k];
            }
        }
        if (sde) {
            drawNoise(generator);
        }
        float sigmaT = schedule.sigma(i + 1);
        float alphaT = alpha(sigmaT);
        float sigmaTt = sigmaT * alphaT;
        float h = lambda(sigmaT) - lambda(sigmaS);
        boolean last = i == schedule.length() - 1;
        boolean firstOrder = lowerOrderSteps < 1 || last;
        // D1 = (m₀ − m₁)/r with r = h₀/h, h₀ the previous step's λ increment
        float invR = 0;
        if (!firstOrder) {
            float h0 = lambda(sigmaS) - lambda(schedule.sigma(i - 1));
            invR = 1.0f / (h0 / h);
        }
        if (!sde) {
            float a = sigmaTt / sigmaTs;
            float b = alphaT * ((float) Math.exp(-h) - 1.0f);
            if (firstOrder) {
                for (int k = 0; k < size; k++) {
                    x[k] = a * x[k] - b * denoised[k];
                }
            } else {
                float halfB = 0.5f * b;
                for (int k = 0; k < size; k++) {
                    float d1 = invR * (denoised[k] - previousDenoised[k]);
                    x[k] = a * x[k] - b * denoised[k] - halfB * d1;
                }
            }
        } else {
            float expMinus2h = (float) Math.exp(-2.0f * h);
            float a = sigmaTt / sigmaTs * (float) Math.exp(-h);
            float b = alphaT * (1.0f - expMinus2h);
            float c = sigmaTt * (float) Math.sqrt(1.0f - expMinus2h);
            if (firstOrder) {
                for (int k = 0; k < size; k++) {
                    x[k] = a * x[k] + b * denoised[k] + c * noise[k];
                }
            } else {
                float halfB = 0.5f * b;
                for (int k = 0; k < size; k++) {
                    float d1 = invR * (denoised[k] - previousDenoised[k]);
                    x[k] = a * x[k] + b * denoised[k] + halfB * d1 + c * noise[k];
                }
            }
        }
        if (lowerOrderSteps < 2) {
            lowerOrderSteps++;
        }
    }
}
