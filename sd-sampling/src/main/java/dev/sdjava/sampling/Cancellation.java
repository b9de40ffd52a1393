package dev.sdjava.sampling;

/**
 * Lets another thread stop a running generation: after {@link #cancel()}, the generation ends with a
 * {@link java.util.concurrent.CancellationException} once the model evaluation in flight completes,
 * i.e. within one step. A token can serve several generations; it cannot be reset.
 */
public final class Cancellation {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
