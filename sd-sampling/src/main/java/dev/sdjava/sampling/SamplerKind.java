package dev.sdjava.sampling;

/**
 * The samplers, by stable names (used in configs and on the command line). Each behaves as the
 * diffusers scheduler named beside it with that scheduler's own defaults (golden README §6).
 */
public enum SamplerKind {
    /** EulerDiscreteScheduler. */
    EULER("euler"),
    /** EulerAncestralDiscreteScheduler: draws noise on every step. */
    EULER_A("euler_a"),
    /** HeunDiscreteScheduler: 2N−1 model evaluations for N steps. */
    HEUN("heun"),
    /** DPMSolverMultistepScheduler, dpmsolver++, order 2. */
    DPMPP_2M("dpmpp_2m"),
    /** DPMSolverMultistepScheduler, sde-dpmsolver++, order 2: draws noise on every step. */
    DPMPP_2M_SDE("dpmpp_2m_sde"),
    /** DDIMScheduler with eta 0. */
    DDIM("ddim"),
    /** PNDMScheduler with skip_prk_steps (PLMS), SD 1.x's default: N+1 model evaluations. */
    PNDM("pndm"),
    /** LMSDiscreteScheduler, order 4. */
    LMS("lms"),
    /** LCMScheduler (for latent-consistency models); draws noise on every step but the last. */
    LCM("lcm");

    private final String id;

    SamplerKind(String id) {
        this.id = id;
    }

    /** The stable name, e.g. {@code "dpmpp_2m"}. */
    public String id() {
        return id;
    }

    /** Whether the sampler works on a σ schedule (and so accepts Karras or exponential σ). */
    public boolean usesSigmas() {
        return switch (this) {
            case DDIM, PNDM, LCM -> false;
            default -> true;
        };
    }

    /** Whether each step draws fresh noise from the generator (Euler a, DPM++ 2M SDE, LCM). */
    public boolean drawsNoise() {
        return switch (this) {
            case EULER_A, DPMPP_2M_SDE, LCM -> true;
            default -> false;
        };
    }

    /** Parses a stable name. */
    public static SamplerKind of(String id) {
        for (SamplerKind k : values()) {
            if (k.id.equals(id)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown sampler \"" + id + "\"; expected one of " + java.util.Arrays.stream(values()).map(SamplerKind::id).toList());
    }
}
