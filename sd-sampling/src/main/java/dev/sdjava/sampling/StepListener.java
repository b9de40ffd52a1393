package dev.sdjava.sampling;

/**
 * Told after each model evaluation of a run: {@code step} evaluations of {@code total} are done.
 * To cancel a run, throw (e.g. {@link java.util.concurrent.CancellationException}); the sampler
 * holds no resources, so nothing needs cleaning up.
 */
@FunctionalInterface
public interface StepListener {
    void onStep(int step, int total);
}
