package dev.sdjava.bench;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.ScalarKernels;
import dev.sdjava.kernels.VectorKernels;

/** The kernel providers a benchmark can ask for by name. */
final class Providers {
    /** The Vector API kernels, what the models get at start-up when the module is enabled. */
    static final String VECTOR = "vector";
    /** The scalar reference kernels. */
    static final String SCALAR = "scalar";

    private Providers() {
    }

    static Kernels named(String name) {
        return switch (name) {
            case VECTOR -> new VectorKernels();
            case SCALAR -> new ScalarKernels();
            default -> throw new IllegalArgumentException("unknown kernel provider '" + name + "', expected "
                    + VECTOR + " or " + SCALAR);
        };
    }

    /** The providers the kernel suite compares, fast one first (the scalar one only on small cases). */
    static String[] compared() {
        return new String[] {VECTOR, SCALAR};
    }
}
