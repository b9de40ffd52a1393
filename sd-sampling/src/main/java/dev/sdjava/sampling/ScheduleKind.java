package dev.sdjava.sampling;

/**
 * How the σ of the sampling steps are spaced. Combined with any σ-based {@link SamplerKind}:
 * "DPM++ 2M Karras" is {@code DPMPP_2M} with {@code KARRAS}.
 */
public enum ScheduleKind {
    /** The sampler's own diffusers default (linspace or leading timesteps). */
    DEFAULT("default"),
    /** Karras et al. (2022): σ evenly spaced in σ^(1/7) between σ_max and σ_min. */
    KARRAS("karras"),
    /** σ evenly spaced in log σ between σ_max and σ_min. */
    EXPONENTIAL("exponential");

    private final String id;

    ScheduleKind(String id) {
        this.id = id;
    }

    /** The stable name, e.g. {@code "karras"}. */
    public String id() {
        return id;
    }

    /** Parses a stable name. */
    public static ScheduleKind of(String id) {
        for (ScheduleKind k : values()) {
            if (k.id.equals(id)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown schedule \"" + id + "\"; expected one of " + java.util.Arrays.stream(values()).map(ScheduleKind::id).toList());
    }
}
