package dev.sdjava.sampling;

/**
 * The training noise schedule of a diffusion model: betas, ᾱ (alphas_cumprod) and the σ of
 * every training timestep, computed in float32 exactly as diffusers/torch do (golden README §6,
 * pitfall 16), from the values of a diffusers scheduler config.
 */
public final class NoiseSchedule {
    private final float[] betas;
    private final float[] alphasCumprod;
    /** σ(t) = √((1−ᾱ_t)/ᾱ_t), float32. */
    private final float[] sigmas;
    private final int stepsOffset;

    private NoiseSchedule(float[] betas, int stepsOffset) {
        this.betas = betas;
        this.stepsOffset = stepsOffset;
        int n = betas.length;
        alphasCumprod = new float[n];
        sigmas = new float[n];
        // torch's CPU cumprod accumulates in double and rounds each output to float
        double product = 1.0;
        for (int t = 0; t < n; t++) {
            product *= 1.0f - betas[t];
            alphasCumprod[t] = (float) product;
            float a = alphasCumprod[t];
            sigmas[t] = (float) Math.sqrt((1.0f - a) / a);
        }
    }

    /** Stable Diffusion 1.x/2.x: 1000 steps, scaled_linear betas 0.00085 … 0.012, steps_offset 1. */
    public static NoiseSchedule stableDiffusion() {
        return fromConfig(1000, 0.00085, 0.012, "scaled_linear", 1);
    }

    /**
     * From a diffusers scheduler config's {@code num_train_timesteps}, {@code beta_start},
     * {@code beta_end}, {@code beta_schedule} ("scaled_linear" or "linear") and
     * {@code steps_offset} (used by the "leading" spacing of DDIM, PNDM and LCM).
     */
    public static NoiseSchedule fromConfig(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule, int stepsOffset) {
        if (numTrainTimesteps < 2) {
            throw new IllegalArgumentException("num_train_timesteps must be at least 2, got " + numTrainTimesteps);
        }
        float[] betas = switch (betaSchedule) {
            case "linear" -> torchLinspace((float) betaStart, (float) betaEnd, numTrainTimesteps);
            case "scaled_linear" -> {
                float[] b = torchLinspace((float) Math.sqrt(betaStart), (float) Math.sqrt(betaEnd), numTrainTimesteps);
                for (int i = 0; i < b.length; i++) {
                    b[i] = b[i] * b[i];
                }
                yield b;
            }
            default -> throw new IllegalArgumentException("beta_schedule \"" + betaSchedule + "\" is not supported; expected \"scaled_linear\" or \"linear\"");
        };
        return fromBetas(betas, stepsOffset);
    }

    /** From explicit betas (e.g. a config's {@code trained_betas}), each in (0, 1). */
    public static NoiseSchedule fromBetas(float[] betas, int stepsOffset) {
        if (betas.length < 2) {
            throw new IllegalArgumentException("a noise schedule needs at least 2 betas, got " + betas.length);
        }
        for (int i = 0; i < betas.length; i++) {
            if (!(betas[i] > 0 && betas[i] < 1)) {
                throw new IllegalArgumentException("beta " + i + " = " + betas[i] + " is outside (0, 1); check beta_start/beta_end or trained_betas");
            }
        }
        if (stepsOffset < 0) {
            throw new IllegalArgumentException("steps_offset must not be negative, got " + stepsOffset);
        }
        return new NoiseSchedule(betas.clone(), stepsOffset);
    }

    /**
     * {@code torch.linspace(start, end, n, dtype=float32)}: a float step, the second half counted
     * back from the end, each value one fused multiply-add (torch's kernel is built with FMA).
     */
    private static float[] torchLinspace(float start, float end, int n) {
        float step = (end - start) / (n - 1);
        int halfway = n / 2;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = i < halfway ? Math.fma(step, (float) i, start) : Math.fma(-step, (float) (n - i - 1), end);
        }
        return out;
    }

    public int numTrainTimesteps() {
        return betas.length;
    }

    public int stepsOffset() {
        return stepsOffset;
    }

    public float[] betas() {
        return betas.clone();
    }

    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** ᾱ at an integer training timestep. */
    public float alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    /** σ at an integer training timestep. */
    public float sigma(int t) {
        return sigmas[t];
    }

    /** The σ table of all training timesteps (ascending in t). */
    float[] sigmaTable() {
        return sigmas;
    }
}
