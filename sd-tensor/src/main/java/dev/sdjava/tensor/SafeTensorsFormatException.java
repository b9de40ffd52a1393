package dev.sdjava.tensor;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file is not a valid .safetensors checkpoint (or sharded index). The message names the file,
 * the tensor where there is one, and what was expected.
 *
 * <p>An {@link IOException} on purpose: opening a checkpoint already throws IOException for a
 * missing or unreadable file, and a caller handles "this file cannot be loaded" the same way
 * whether the disk or the bytes are at fault; one {@code catch (IOException e)} covers both, and
 * the compiler makes sure nobody forgets the broken-file case.
 */
public final class SafeTensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String tensor;

    /** {@code tensor} is null when the problem is not about one tensor. */
    public SafeTensorsFormatException(Path file, String tensor, String problem) {
        super(file + (tensor == null ? "" : ": tensor \"" + tensor + "\"") + ": " + problem);
        this.file = file;
        this.tensor = tensor;
    }

    public SafeTensorsFormatException(Path file, String problem) {
        this(file, null, problem);
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The tensor at fault, or null. */
    public String tensor() {
        return tensor;
    }
}
