package dev.sdjava.model;

/** What the U-Net predicts: the noise (SD 1.x, SD 2.x base) or the velocity v (SD 2.x 768-v). */
public enum PredictionType {
    EPSILON("epsilon"),
    V_PREDICTION("v_prediction"),
    /** The clean latent itself (rare; diffusers "sample"). */
    SAMPLE("sample");

    private final String diffusersName;

    PredictionType(String diffusersName) {
        this.diffusersName = diffusersName;
    }

    /** The value of diffusers' {@code prediction_type}. */
    public String diffusersName() {
        return diffusersName;
    }

    /** Parses diffusers' {@code prediction_type}; {@code source} names the file for the error. */
    static PredictionType fromDiffusers(String value, String source) {
        for (PredictionType t : values()) {
            if (t.diffusersName.equals(value)) {
                return t;
            }
        }
        throw new CheckpointException(source + ": unknown prediction_type \"" + value + "\" (expected epsilon, v_prediction or sample)");
    }
}
