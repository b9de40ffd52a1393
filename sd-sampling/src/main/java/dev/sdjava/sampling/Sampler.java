package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;
import java.util.Objects;

/**
 * One sampling run: a sampler's update rule driven by a {@link Denoiser} over a {@link Schedule}.
 * An instance holds the run's preallocated buffers and solver history (nothing is allocated
 * inside the loop) and is reused run after run; it is not thread-safe.
 *
 * <pre>{@code
 * Schedule schedule = Schedule.create(NoiseSchedule.stableDiffusion(), SamplerKind.DPMPP_2M, ScheduleKind.KARRAS, 20);
 * Sampler sampler = Sampler.create(schedule, PredictionType.EPSILON, latents.length);
 * // txt2img: latents = randn · schedule.initNoiseSigma()
 * sampler.sample(unet, latents, 0, generator, (step, total) -> progress.set(step, total));
 * }</pre>
 *
 * Each update reproduces the diffusers scheduler's float32 arithmetic operation by operation
 * (golden README §6), so traces match diffusers to float32 rounding.
 */
public abstract sealed class Sampler permits DdimSampler, PndmSampler, SigmaSampler, DpmSolverSampler, LcmSampler {
    final Schedule schedule;
    final NoiseSchedule noiseSchedule;
    final PredictionType prediction;
    /** Number of latent elements (the whole batch). */
    final int size;
    /** x₀ predicted by the last step (LCM: its "denoised"); for previews and tests. */
    final float[] denoised;
    /** The noise drawn by the last step, for samplers that draw any. */
    final float[] noise;
    private final float[] modelInput;
    private final float[] modelOutput;

    Sampler(Schedule schedule, PredictionType prediction, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("latent size must be positive, got " + size);
        }
        this.schedule = schedule;
        this.noiseSchedule = schedule.noise();
        this.prediction = prediction;
        this.size = size;
        this.denoised = new float[size];
        this.noise = drawsNoise() ? new float[size] : null;
        this.modelInput = new float[size];
        this.modelOutput = new float[size];
    }

    /**
     * A sampler of {@code schedule.sampler()} kind for latents of {@code latentSize} elements, for a
     * model that predicts ε or v; {@link PredictionType#SAMPLE} (x₀ itself) is rejected.
     */
    public static Sampler create(Schedule schedule, PredictionType prediction, int latentSize) {
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(prediction, "prediction");
        if (prediction == PredictionType.SAMPLE) {
            // Every update below is written for ε or v; diffusers' PNDM rejects "sample" too.
            throw new IllegalArgumentException("prediction type SAMPLE (a model predicting the clean latent) is not supported"
                    + " by the samplers; expected EPSILON or V_PREDICTION");
        }
        return switch (schedule.sampler()) {
            case DDIM -> new DdimSampler(schedule, prediction, latentSize);
            case PNDM -> new PndmSampler(schedule, prediction, latentSize);
            case EULER -> new EulerSampler(schedule, prediction, latentSize, false);
            case EULER_A -> new EulerSampler(schedule, prediction, latentSize, true);
            case HEUN -> new HeunSampler(schedule, prediction, latentSize);
            case LMS -> new LmsSampler(schedule, prediction, latentSize);
            case DPMPP_2M -> new DpmSolverSampler(schedule, prediction, latentSize, false);
            case DPMPP_2M_SDE -> new DpmSolverSampler(schedule, prediction, latentSize, true);
            case LCM -> new LcmSampler(schedule, prediction, latentSize);
        };
    }

    public Schedule schedule() {
        return schedule;
    }

    /** Whether {@link #sample} needs a generator (see {@link SamplerKind#drawsNoise()}). */
    public final boolean drawsNoise() {
        return schedule.sampler().drawsNoise();
    }

    /**
     * Runs evaluations {@code start … schedule.length()-1}, updating {@code latents} in place.
     * txt2img starts at 0 from noise·{@link Schedule#initNoiseSigma()}; img2img starts at
     * {@link Schedule#startIndex(double)} from {@link #addNoise}. The solver history starts empty.
     *
     * @param generator the source of the per-step noise; may be null if {@link #drawsNoise()} is false
     * @param listener told after every evaluation; may be null
     */
    public final void sample(Denoiser denoiser, float[] latents, int start, TorchGenerator generator, StepListener listener) {
        checkSize(latents, "latents");
        if (start < 0 || start >= schedule.length()) {
            throw new IllegalArgumentException("start index " + start + " is outside the schedule's " + schedule.length() + " evaluations");
        }
        if (generator == null && drawsNoise()) {
            throw new IllegalArgumentException("sampler " + schedule.sampler().id() + " draws noise at every step: pass a TorchGenerator");
        }
        reset();
        int total = schedule.length() - start;
        for (int i = start; i < schedule.length(); i++) {
            scaleModelInput(i, latents, modelInput);
            denoiser.predict(modelInput, schedule.timestep(i), modelOutput);
            step(i, modelOutput, latents, generator);
            if (listener != null) {
                listener.onStep(i - start + 1, total);
            }
        }
    }

    /**
     * img2img: {@code out} = {@code original} noised to the level of evaluation {@code start}
     * with this sampler's rule (diffusers' {@code add_noise}, golden README §12).
     */
    public final void addNoise(int start, float[] original, float[] noise, float[] out) {
        checkSize(original, "original");
        checkSize(noise, "noise");
        checkSize(out, "out");
        if (start < 0 || start >= schedule.length()) {
            throw new IllegalArgumentException("start index " + start + " is outside the schedule's " + schedule.length() + " evaluations");
        }
        float[] c = addNoiseCoefficients(start);
        float a = c[0];
        float b = c[1];
        for (int k = 0; k < size; k++) {
            out[k] = a * original[k] + b * noise[k];
        }
    }

    /**
     * The coefficients {a, b} of {@link #addNoise} (out = a·original + b·noise): {√ᾱ_t, √(1−ᾱ_t)}
     * by default (DDIM, PNDM, LCM), overridden by σ-based samplers.
     */
    float[] addNoiseCoefficients(int start) {
        float alpha = noiseSchedule.alphaCumprod((int) schedule.timestep(start));
        return new float[] {(float) Math.sqrt(alpha), (float) Math.sqrt(1.0f - alpha)};
    }

    /** The model input of evaluation {@code i}; the identity unless overridden. */
    void scaleModelInput(int i, float[] x, float[] out) {
        System.arraycopy(x, 0, out, 0, size);
    }

    /** One update: {@code x} becomes the latent after evaluation {@code i} given the model output. */
    abstract void step(int i, float[] modelOutput, float[] x, TorchGenerator generator);

    /** Forgets the solver history before a new run. */
    abstract void reset();

    /** Euler-type x₀ from the raw model output at σ (ε: x − σε; v: v·(−σ/√(σ²+1)) + x/(σ²+1)). */
    final void sigmaDenoised(float sigma, float[] modelOutput, float[] x) {
        if (prediction == PredictionType.EPSILON) {
            for (int k = 0; k < size; k++) {
                denoised[k] = x[k] - sigma * modelOutput[k];
            }
        } else {
            float s2p1 = sigma * sigma + 1.0f;
            float c = -sigma / (float) Math.sqrt(s2p1);
            for (int k = 0; k < size; k++) {
                denoised[k] = modelOutput[k] * c + x[k] / s2p1;
            }
        }
    }

    /** DDIM-type x₀ from the raw model output at ᾱ (ε: (x − √β·ε)/√ᾱ; v: √ᾱ·x − √β·v). */
    final void alphaDenoised(float alphaCumprod, float[] modelOutput, float[] x) {
        float sqrtA = (float) Math.sqrt(alphaCumprod);
        float sqrtB = (float) Math.sqrt(1.0f - alphaCumprod);
        if (prediction == PredictionType.EPSILON) {
            for (int k = 0; k < size; k++) {
                denoised[k] = (x[k] - sqrtB * modelOutput[k]) / sqrtA;
            }
        } else {
            for (int k = 0; k < size; k++) {
                denoised[k] = sqrtA * x[k] - sqrtB * modelOutput[k];
            }
        }
    }

    final void drawNoise(TorchGenerator generator) {
        if (generator == null) {
            throw new IllegalArgumentException("sampler " + schedule.sampler().id() + " draws noise at every step: pass a TorchGenerator");
        }
        generator.randn(noise);
    }

    private void checkSize(float[] a, String what) {
        if (a.length != size) {
            throw new IllegalArgumentException(what + " has " + a.length + " elements, the sampler was made for " + size);
        }
    }
}
