package dev.sdjava.model;

/**
 * What the samplers need from a model's training noise schedule, as diffusers' {@code
 * scheduler_config.json} spells it (or an LDM yaml's {@code linear_start}/{@code linear_end}/{@code timesteps}).
 *
 * @param className         the diffusers scheduler the model ships with ("PNDMScheduler"), or null
 * @param numTrainTimesteps training steps (1000)
 * @param betaStart         first beta (0.00085)
 * @param betaEnd           last beta (0.012)
 * @param betaSchedule      "scaled_linear" for SD (LDM's "linear" schedule), "linear", ...
 * @param predictionType    what the U-Net predicts
 * @param stepsOffset       diffusers' steps_offset (1 for SD)
 * @param setAlphaToOne     DDIM/PNDM: whether the final alpha_cumprod is 1 (false for SD)
 * @param timestepSpacing   "leading", "linspace", "trailing", or null when the file does not say
 *                          (then each sampler uses its own default, README pitfall 14)
 */
public record SchedulerConfig(String className, int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
                              PredictionType predictionType, int stepsOffset, boolean setAlphaToOne, String timestepSpacing) {

    /** The schedule every SD 1.x / 2.x model was trained with. */
    public static SchedulerConfig stableDiffusion(PredictionType predictionType) {
        return new SchedulerConfig(null, 1000, 0.00085, 0.012, "scaled_linear", predictionType, 1, false, null);
    }

    public SchedulerConfig withPredictionType(PredictionType type) {
        return new SchedulerConfig(className, numTrainTimesteps, betaStart, betaEnd, betaSchedule, type, stepsOffset,
                setAlphaToOne, timestepSpacing);
    }
}
