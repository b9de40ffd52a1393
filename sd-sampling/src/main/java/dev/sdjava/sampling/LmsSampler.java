package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * Linear multistep in σ (order 4): x' = x + Σ_k c_k·d_{i−k} with d = (x − x₀)/σ and c_k the
 * integral over [σ_i, σ_{i+1}] of the Lagrange basis polynomial through the last σ's.
 */
final class LmsSampler extends SigmaSampler {
    private static final int ORDER = 4;
    /** Gauss-Legendre nodes and weights on [-1, 1]: exact for the degree ≤ 3 integrands. */
    private static final double[] GL_NODES = {-Math.sqrt(3.0 / 5.0), 0.0, Math.sqrt(3.0 / 5.0)};
    private static final double[] GL_WEIGHTS = {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0};

    /** The last (up to) four derivatives, oldest first. */
    private final float[][] derivatives = new float[ORDER][];
    private int count;
    private final float[] coefficients = new float[ORDER];

    LmsSampler(Schedule schedule, PredictionType prediction, int size) {
        super(schedule, prediction, size);
        for (int h = 0; h < ORDER; h++) {
            derivatives[h] = new float[size];
        }
    }

    @Override
    void reset() {
        count = 0;
    }

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        float sigma = schedule.sigma(i);
        sigmaDenoised(sigma, modelOutput, x);
        if (count == ORDER) {
            float[] oldest = derivatives[0];
            System.arraycopy(derivatives, 1, derivatives, 0, ORDER - 1);
            derivatives[ORDER - 1] = oldest;
            count--;
        }
        float[] d = derivatives[count++];
        for (int k = 0; k < size; k++) {
            d[k] = (x[k] - denoised[k]) / sigma;
        }
        // diffusers takes the order from the step index; with fewer derivatives (img2img) only those are used
        int order = Math.min(i + 1, ORDER);
        int used = Math.min(order, count);
        for (int j = 0; j < used; j++) {
            coefficients[j] = (float) coefficient(order, i, j);
        }
        for (int k = 0; k < size; k++) {
            float sum = coefficients[0] * derivatives[count - 1][k];
            for (int j = 1; j < used; j++) {
                sum = sum + coefficients[j] * derivatives[count - 1 - j][k];
            }
            x[k] = x[k] + sum;
        }
    }

    /** ∫_{σ_i}^{σ_{i+1}} Π_{m≠j, m<order} (τ − σ_{i−m}) / (σ_{i−j} − σ_{i−m}) dτ, in double. */
    double coefficient(int order, int i, int j) {
        double a = schedule.sigma(i);
        double b = schedule.sigma(i + 1);
        double half = (b - a) / 2;
        double mid = (a + b) / 2;
        double sum = 0;
        for (int q = 0; q < GL_NODES.length; q++) {
            double tau = mid + half * GL_NODES[q];
            double product = 1;
            for (int m = 0; m < order; m++) {
                if (m != j) {
                    product *= (tau - schedule.sigma(i - m)) / (schedule.sigma(i - j) - schedule.sigma(i - m));
                }
            }
            sum += GL_WEIGHTS[q] * product;
        }
        return sum * half;
    }
}
