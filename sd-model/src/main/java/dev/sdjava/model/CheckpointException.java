package dev.sdjava.model;

/** A checkpoint or config that cannot be loaded; the message names the file and every offending tensor. */
public final class CheckpointException extends IllegalArgumentException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
