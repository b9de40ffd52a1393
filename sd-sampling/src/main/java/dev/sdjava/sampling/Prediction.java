package dev.sdjava.sampling;

/** What the denoiser's raw output means (diffusers' {@code prediction_type}). */
public enum Prediction {
    /** The noise ε that was added (SD 1.x, SD 2.x base). */
    EPSILON("epsilon"),
    /** The velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (SD 2.x 768-v). */
    V_PREDICTION("v_prediction");

    private final String configName;

    Prediction(String configName) {
        this.configName = configName;
    }

    /** The name in a diffusers scheduler config. */
    public String configName() {
        return configName;
    }

    /** Parses a diffusers {@code prediction_type} value. */
    public static Prediction fromConfig(String name) {
        for (Prediction p : values()) {
            if (p.configName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("prediction_type \"" + name + "\" is not supported; expected \"epsilon\" or \"v_prediction\"");
    }
}
