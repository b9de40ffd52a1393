package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;

/** Distances of a computed result from a golden tensor, reported the way README §9 states tolerances. */
public record Closeness(double maxAbs, double relL2) {

    public static Closeness of(float[] actual, Tensor expected) {
        long n = expected.numel();
        if (actual.length < n) {
            throw new AssertionError("result has " + actual.length + " values, golden " + expected + " has " + n);
        }
        double maxAbs = 0, diff2 = 0, ref2 = 0;
        for (int i = 0; i < n; i++) {
            double e = expected.getFloat(i);
            double d = actual[i] - e;
            maxAbs = Math.max(maxAbs, Math.abs(d));
            diff2 += d * d;
            ref2 += e * e;
        }
        return new Closeness(Double.isNaN(diff2) ? Double.NaN : maxAbs, Math.sqrt(diff2 / ref2));
    }

    /** Throws unless within both bounds (NaN never is). */
    public void require(double maxAbsBound, double relL2Bound, String what) {
        if (!(maxAbs <= maxAbsBound && relL2 <= relL2Bound)) {
            throw new AssertionError(what + ": max abs " + maxAbs + " (bound " + maxAbsBound + "), rel L2 " + relL2
                    + " (bound " + relL2Bound + ")");
        }
    }
}
