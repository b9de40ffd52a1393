package dev.sdjava.model.diffusion;

/**
 * Receives named intermediate activations during a forward pass, under the names the golden files use
 * ({@code "down_blocks", 2} for {@code debug.down_blocks.2}); tests use it to find the first stage that
 * departs from the reference. Stage and index are passed apart so that no name is built per call.
 */
@FunctionalInterface
interface Probe {
    Probe NONE = (stage, index, data, length) -> { };

    /** {@code index} is -1 for stages that are not numbered. */
    void record(String stage, int index, float[] data, int length);
}
