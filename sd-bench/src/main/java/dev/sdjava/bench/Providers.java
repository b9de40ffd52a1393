package dev.sdjava.bench;

import dev.sdjava.kernels.Kernels;

/** The kernel providers a benchmark can ask for by name. */
final class Providers {
    /** The provider the models get at start-up. */
    static final String DEFAULT = "default";
    /** The scalar reference kernels. */
    static final String SCALAR = "scalar";

    private Providers() {
    }

    static Kernels named(String name) {
        return switch (name) {
            case DEFAULT -> Kernels.get();
            default -> throw new IllegalArgumentException("unknown kernel provider '" + name + "', expected: " + DEFAULT);
        };
    }

    /** The providers worth comparing, best first; the scalar reference only where it is separate. */
    static String[] compared() {
        return new String[] {DEFAULT};
    }
}
