package dev.sdjava.model;

import java.nio.file.Path;

/**
 * Overrides for what the loader would otherwise take from the configs beside the weights or from the
 * family defaults. Every field may be null (= detect). Build with {@link #defaults()} and the
 * {@code with…} methods.
 *
 * @param unetHeads          the U-Net's attention heads
 * @param textEncoderHeads   the text encoder's attention heads
 * @param predictionType     epsilon or v
 * @param ldmConfig          the LDM yaml of a single file (default: same base name beside it, if present)
 */
public record LoadOptions(AttentionHeads unetHeads, Integer textEncoderHeads, PredictionType predictionType, Path ldmConfig) {

    public static LoadOptions defaults() {
        return new LoadOptions(null, null, null, null);
    }

    public LoadOptions withUnetHeads(AttentionHeads heads) {
        return new LoadOptions(heads, textEncoderHeads, predictionType, ldmConfig);
    }

    public LoadOptions withTextEncoderHeads(int heads) {
        return new LoadOptions(unetHeads, heads, predictionType, ldmConfig);
    }

    public LoadOptions withPredictionType(PredictionType type) {
        return new LoadOptions(unetHeads, textEncoderHeads, type, ldmConfig);
    }

    public LoadOptions withLdmConfig(Path yaml) {
        return new LoadOptions(unetHeads, textEncoderHeads, predictionType, yaml);
    }
}
