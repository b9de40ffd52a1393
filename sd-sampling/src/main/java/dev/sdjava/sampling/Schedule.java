package dev.sdjava.sampling;

import java.util.Arrays;

/**
 * The timesteps (one per model evaluation) and, for σ-based samplers, the σ of one sampling run
 * of N steps: what diffusers' {@code set_timesteps(N)} produces for the sampler's scheduler with
 * its own defaults (golden README §6). Immutable.
 *
 * <p>DDIM, PNDM and LCM use "leading" integer timesteps (PNDM repeats its second one: N+1
 * evaluations); Euler, Euler a, Heun and LMS use fractional "linspace" timesteps with σ
 * interpolated on the training table (Heun doubles every interior entry: 2N−1 evaluations); DPM++
 * uses rounded linspace timesteps. {@link ScheduleKind#KARRAS} and {@link ScheduleKind#EXPONENTIAL}
 * replace the σ of a σ-based sampler and map each σ back to a (for DPM++ rounded) timestep.
 * A config's {@code timestep_spacing} is deliberately not consulted: SD's scheduler configs have
 * none, so diffusers gives every sampler its own default (README pitfall 14).
 */
public final class Schedule {
    private static final double KARRAS_RHO = 7.0;
    /** LCM's {@code original_inference_steps}. */
    private static final int LCM_ORIGINAL_STEPS = 50;

    private final NoiseSchedule noise;
    private final SamplerKind sampler;
    private final ScheduleKind kind;
    private final int steps;
    private final float[] timesteps;
    private final float[] sigmas;
    private final float initNoiseSigma;

    private Schedule(NoiseSchedule noise, SamplerKind sampler, ScheduleKind kind, int steps, float[] timesteps, float[] sigmas) {
        this.noise = noise;
        this.sampler = sampler;
        this.kind = kind;
        this.steps = steps;
        this.timesteps = timesteps;
        this.sigmas = sigmas;
        float init = 1.0f;
        if (sigmas != null && sampler != SamplerKind.DPMPP_2M && sampler != SamplerKind.DPMPP_2M_SDE) {
            // Euler-type samplers start from noise·σ_max (linspace spacing); DPM++ works on unscaled latents
            init = 0;
            for (float s : sigmas) {
                init = Math.max(init, s);
            }
        }
        this.initNoiseSigma = init;
    }

    /** The schedule of an N-step run of {@code sampler} on a model trained with {@code noise}. */
    public static Schedule create(NoiseSchedule noise, SamplerKind sampler, ScheduleKind kind, int steps) {
        int trainSteps = noise.numTrainTimesteps();
        if (steps < 1 || steps > trainSteps) {
            throw new IllegalArgumentException("steps must be between 1 and " + trainSteps + ", got " + steps);
        }
        if (!sampler.usesSigmas() && kind != ScheduleKind.DEFAULT) {
            throw new IllegalArgumentException("sampler " + sampler.id() + " has no sigma schedule, so the \"" + kind.id()
                    + "\" schedule does not apply; use \"default\"");
        }
        return switch (sampler) {
            case DDIM -> new Schedule(noise, sampler, kind, steps, leading(noise, steps), null);
            case PNDM -> new Schedule(noise, sampler, kind, steps, plms(leading(noise, steps)), null);
            case LCM -> new Schedule(noise, sampler, kind, steps, lcm(noise, steps), null);
            case DPMPP_2M, DPMPP_2M_SDE -> dpm(noise, sampler, kind, steps);
            case EULER, EULER_A, LMS, HEUN -> euler(noise, sampler, kind, steps);
        };
    }

    /** "leading": {@code [0, r, 2r, …]·(T // N) + steps_offset}, descending. */
    private static float[] leading(NoiseSchedule noise, int steps) {
        int ratio = noise.numTrainTimesteps() / steps;
        float[] t = new float[steps];
        for (int k = 0; k < steps; k++) {
            t[steps - 1 - k] = k * ratio + noise.stepsOffset();
        }
        return t;
    }

    /** PNDM without Runge-Kutta warm-up: the second timestep is evaluated twice. */
    private static float[] plms(float[] descending) {
        int n = descending.length;
        if (n == 1) {
            return descending;
        }
        float[] t = new float[n + 1];
        t[0] = descending[0];
        System.arraycopy(descending, 1, t, 2, n - 1);
        t[1] = descending[1];
        return t;
    }

    private static float[] lcm(NoiseSchedule noise, int steps) {
        if (steps > LCM_ORIGINAL_STEPS) {
            throw new IllegalArgumentException("the lcm sampler takes at most " + LCM_ORIGINAL_STEPS + " steps, got " + steps);
        }
        int k = noise.numTrainTimesteps() / LCM_ORIGINAL_STEPS;
        double[] index = linspace(0, LCM_ORIGINAL_STEPS, steps, false);
        float[] t = new float[steps];
        for (int i = 0; i < steps; i++) {
            // candidates (1..50)·k − 1, descending
            int candidate = LCM_ORIGINAL_STEPS - 1 - (int) Math.floor(index[i]);
            t[i] = (candidate + 1) * k - 1;
        }
        return t;
    }

    private static Schedule dpm(NoiseSchedule noise, SamplerKind sampler, ScheduleKind kind, int steps) {
        int last = noise.numTrainTimesteps() - 1;
        float[] t = new float[steps];
        double[] sig = new double[steps];
        if (kind == ScheduleKind.DEFAULT) {
            double[] lin = linspace(0, last, steps + 1, true);
            for (int i = 0; i < steps; i++) {
                t[i] = (float) Math.rint(lin[steps - i]);
                sig[i] = noise.sigma((int) t[i]);
            }
        } else {
            sig = spaced(kind, noise.sigma(last), noise.sigma(0), steps);
            for (int i = 0; i < steps; i++) {
                t[i] = (float) Math.rint(sigmaToT(noise, sig[i]));
            }
        }
        return new Schedule(noise, sampler, kind, steps, t, withFinalZero(sig));
    }

    private static Schedule euler(NoiseSchedule noise, SamplerKind sampler, ScheduleKind kind, int steps) {
        double[] lin = linspace(0, noise.numTrainTimesteps() - 1, steps, true);
        float[] t = new float[steps];
        double[] sig = new double[steps];
        for (int i = 0; i < steps; i++) {
            t[i] = (float) lin[steps - 1 - i];
            // σ is interpolated at the float32 timestep
            sig[i] = interpolateSigma(noise, t[i]);
        }
        if (kind != ScheduleKind.DEFAULT) {
            sig = spaced(kind, sig[0], sig[steps - 1], steps);
            for (int i = 0; i < steps; i++) {
                t[i] = (float) sigmaToT(noise, sig[i]);
            }
        }
        float[] s = withFinalZero(sig);
        if (sampler != SamplerKind.HEUN) {
            return new Schedule(noise, sampler, kind, steps, t, s);
        }
        // Heun: [t0, t1, t1, …, t_{N-1}, t_{N-1}] and [σ0, σ1, σ1, …, σ_{N-1}, σ_{N-1}, 0]
        float[] ht = new float[2 * steps - 1];
        float[] hs = new float[2 * steps];
        ht[0] = t[0];
        hs[0] = s[0];
        for (int i = 1; i < steps; i++) {
            ht[2 * i - 1] = t[i];
            ht[2 * i] = t[i];
            hs[2 * i - 1] = s[i];
            hs[2 * i] = s[i];
        }
        hs[2 * steps - 1] = 0;
        return new Schedule(noise, sampler, kind, steps, ht, hs);
    }

    private static float[] withFinalZero(double[] sig) {
        float[] s = new float[sig.length + 1];
        for (int i = 0; i < sig.length; i++) {
            s[i] = (float) sig[i];
        }
        return s;
    }

    /** Karras or exponential σ from σ_max down to σ_min, in double as diffusers (numpy) computes them. */
    private static double[] spaced(ScheduleKind kind, double sigmaMax, double sigmaMin, int steps) {
        double[] out = new double[steps];
        if (kind == ScheduleKind.KARRAS) {
            double[] ramp = linspace(0, 1, steps, true);
            double minInvRho = Math.pow(sigmaMin, 1 / KARRAS_RHO);
            double maxInvRho = Math.pow(sigmaMax, 1 / KARRAS_RHO);
            for (int i = 0; i < steps; i++) {
                out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), KARRAS_RHO);
            }
        } else {
            double[] logs = linspace(Math.log(sigmaMax), Math.log(sigmaMin), steps, true);
            for (int i = 0; i < steps; i++) {
                out[i] = Math.exp(logs[i]);
            }
        }
        return out;
    }

    /** {@code np.linspace}: {@code i·step + start}, the last value set to {@code stop} exactly. */
    static double[] linspace(double start, double stop, int num, boolean endpoint) {
        int div = endpoint ? num - 1 : num;
        double delta = stop - start;
        double[] y = new double[num];
        for (int i = 0; i < num; i++) {
            y[i] = div > 0 ? i * (delta / div) + start : i * delta + start;
        }
        if (endpoint && num > 1) {
            y[num - 1] = stop;
        }
        return y;
    }

    /** {@code np.interp(t, arange(T), σ table)}: linear in double between the float32 σ. */
    private static double interpolateSigma(NoiseSchedule noise, double t) {
        int last = noise.numTrainTimesteps() - 1;
        if (t >= last) {
            return noise.sigma(last);
        }
        int j = (int) Math.floor(t);
        double lo = noise.sigma(j);
        double slope = (double) noise.sigma(j + 1) - lo;
        return slope * (t - j) + lo;
    }

    /** diffusers' {@code _sigma_to_t}: the timestep whose (float32) log σ interpolates to log σ. */
    private static double sigmaToT(NoiseSchedule noise, double sigma) {
        int n = noise.numTrainTimesteps();
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        // the last table entry whose log σ is <= log σ (the table ascends), kept below the end
        int low = 0;
        for (int j = 0; j < n; j++) {
            if (logSigma - logSigmaAt(noise, j) >= 0) {
                low = j;
            }
        }
        low = Math.min(low, n - 2);
        double lo = logSigmaAt(noise, low);
        double hi = logSigmaAt(noise, low + 1);
        double w = Math.clamp((lo - logSigma) / (lo - hi), 0.0, 1.0);
        return (1 - w) * low + w * (low + 1);
    }

    private static double logSigmaAt(NoiseSchedule noise, int t) {
        return (float) Math.log(noise.sigma(t));
    }

    public NoiseSchedule noise() {
        return noise;
    }

    public SamplerKind sampler() {
        return sampler;
    }

    public ScheduleKind kind() {
        return kind;
    }

    /** N, the number of steps asked for (the evaluations can be more: PNDM N+1, Heun 2N−1). */
    public int steps() {
        return steps;
    }

    /** The number of model evaluations of a full run. */
    public int length() {
        return timesteps.length;
    }

    /** The model timestep of evaluation {@code i}. */
    public float timestep(int i) {
        return timesteps[i];
    }

    public float[] timesteps() {
        return timesteps.clone();
    }

    /** σ of every evaluation plus a final 0; null for DDIM, PNDM and LCM, which have none. */
    public float[] sigmas() {
        return sigmas == null ? null : sigmas.clone();
    }

    /** σ of evaluation {@code i} (index {@code length()} is the final 0). */
    float sigma(int i) {
        return sigmas[i];
    }

    /** The factor for the initial noise of txt2img (σ_max for Euler-type samplers, else 1). */
    public float initNoiseSigma() {
        return initNoiseSigma;
    }

    /** Evaluations per step: 2 for Heun, else 1. */
    public int order() {
        return sampler == SamplerKind.HEUN ? 2 : 1;
    }

    /**
     * img2img: the evaluation a run at denoising {@code strength} starts from, diffusers' mapping
     * {@code (N − int(N·strength))·order} into the timestep list (golden README §12; for PNDM
     * that list has its repeated entry, so it starts one step higher than DDIM).
     */
    public int startIndex(double strength) {
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        int initSteps = Math.min((int) (steps * strength), steps);
        int start = Math.max(steps - initSteps, 0) * order();
        if (start >= timesteps.length) {
            throw new IllegalArgumentException("strength " + strength + " with " + steps + " steps leaves no step to run");
        }
        return start;
    }

    @Override
    public String toString() {
        return "Schedule[" + sampler.id() + ", " + kind.id() + ", " + steps + " steps, timesteps " + Arrays.toString(timesteps) + "]";
    }
}
