package dev.sdjava.sampling;

/** Told after every model evaluation of a generation. Runs on the generating thread: keep it quick. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = p -> { };

    void onStep(Progress progress);
}
