package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;

/**
 * PNDM without its Runge-Kutta warm-up (PLMS, diffusers' {@code skip_prk_steps}), SD 1.x's
 * default. A linear multistep method on ε: the first step is plain; the second evaluation repeats
 * the second timestep and redoes the first step from the same x with the average of both outputs;
 * then Adams-Bashforth of order 2, 3, 4. Like diffusers, which step is which follows a counter
 * that restarts with each run, also when img2img starts mid-schedule (golden README §11).
 */
final class PndmSampler extends Sampler {
    /** The last (up to) four model outputs, oldest first; the repeat's output is not kept. */
    private final float[][] history = new float[4][];
    private int historyCount;
    private int counter;
    private final float[] combined;
    /** The x of the first step, which the repeat restarts from. */
    private final float[] firstSample;

    PndmSampler(Schedule schedule, PredictionType prediction, int size) {
        super(schedule, prediction, size);
        for (int h = 0; h < history.length; h++) {
            history[h] = new float[size];
        }
        combined = new float[size];
        firstSample = new float[size];
    }

    @Override
    void reset() {
        historyCount = 0;
        counter = 0;
    }

    @Override
    void step(int i, float[] modelOutput, float[] x, TorchGenerator generator) {
        int ratio = noiseSchedule.numTrainTimesteps() / schedule.steps();
        int t = (int) schedule.timestep(i);
        int prevT = t - ratio;
        if (counter == 1) {
            // the repeat: the previous step once more, t + ratio → t
            prevT = t;
            t = t + ratio;
        } else {
            push(modelOutput);
        }
        float[] sample = x;
        float[] e1 = history[historyCount - 1];
        if (historyCount == 1 && counter == 0) {
            System.arraycopy(modelOutput, 0, combined, 0, size);
            System.arraycopy(x, 0, firstSample, 0, size);
        } else if (historyCount == 1 && counter == 1) {
            for (int k = 0; k < size; k++) {
                combined[k] = (modelOutput[k] + e1[k]) / 2.0f;
            }
            sample = firstSample;
        } else if (historyCount == 2) {
            float[] e2 = history[0];
            for (int k = 0; k < size; k++) {
                combined[k] = (3.0f * e1[k] - e2[k]) / 2.0f;
            }
        } else if (historyCount == 3) {
            float[] e2 = history[1];
            float[] e3 = history[0];
            for (int k = 0; k < size; k++) {
                combined[k] = (23.0f * e1[k] - 16.0f * e2[k] + 5.0f * e3[k]) / 12.0f;
            }
        } else {
            float[] e2 = history[2];
            float[] e3 = history[1];
            float[] e4 = history[0];
            for (int k = 0; k < size; k++) {
                combined[k] = (1.0f / 24.0f) * (55.0f * e1[k] - 59.0f * e2[k] + 37.0f * e3[k] - 9.0f * e4[k]);
            }
        }
        previousSample(sample, t, prevT, x);
        counter++;
    }

    private void push(float[] modelOutput) {
        if (historyCount == history.length) {
            float[] oldest = history[0];
            System.arraycopy(history, 1, history, 0, history.length - 1);
            history[history.length - 1] = oldest;
            historyCount--;
        }
        System.arraycopy(modelOutput, 0, history[historyCount++], 0, size);
    }

    /** PNDM's closed form from t to prevT with the combined ε (for v-models converted with the current sample). */
    private void previousSample(float[] sample, int t, int prevT, float[] out) {
        float alpha = noiseSchedule.alphaCumprod(t);
        float alphaPrev = noiseSchedule.alphaCumprod(Math.max(prevT, 0));
        float beta = 1.0f - alpha;
        float betaPrev = 1.0f - alphaPrev;
        float sqrtA = (float) Math.sqrt(alpha);
        float sqrtB = (float) Math.sqrt(beta);
        float sampleCoeff = (float) Math.sqrt(alphaPrev / alpha);
        float denominator = alpha * (float) Math.sqrt(betaPrev) + (float) Math.sqrt(alpha * beta * alphaPrev);
        float diff = alphaPrev - alpha;
        for (int k = 0; k < size; k++) {
            float e = prediction == PredictionType.EPSILON ? combined[k] : sqrtA * combined[k] + sqrtB * sample[k];
            out[k] = sampleCoeff * sample[k] - diff * e / denominator;
        }
    }
}
