package dev.sdjava.model.diffusion;

import java.util.ArrayList;
import java.util.List;

/**
 * Scratch activations for one network, handed out in stack order: a block {@link #mark() marks} the stack,
 * {@link #take takes} what it needs and {@link #release releases} back to the mark when done. Buffers are kept
 * after release and only grow, so a network called again with the same sizes (the sampling loop calls the
 * U-Net 20-50 times) allocates nothing: the n-th take of a call gets the n-th buffer of the previous call.
 * Not thread-safe: one call at a time per network instance.
 */
final class Workspace {
    private final List<float[]> buffers = new ArrayList<>();
    private int top;

    /** A buffer of at least {@code size} floats (contents undefined), valid until released. */
    float[] take(long size) {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("activation of " + size + " floats is too large for one buffer;"
                    + " use a smaller batch or image");
        }
        int n = (int) size;
        if (top == buffers.size()) {
            buffers.add(new float[n]);
        } else if (buffers.get(top).length < n) {
            buffers.set(top, new float[n]);
        }
        return buffers.get(top++);
    }

    /** Floats held in all buffers, taken or not. */
    long floats() {
        return buffers.stream().mapToLong(b -> b.length).sum();
    }

    int mark() {
        return top;
    }

    void release(int mark) {
        top = mark;
    }

    /** Drops every buffer, for the garbage collector: the next call allocates them again. */
    void clear() {
        buffers.clear();
        top = 0;
    }
}
