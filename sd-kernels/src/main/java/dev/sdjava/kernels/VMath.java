package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector transcendental functions built from adds, multiplies and bit operations only. Not
 * {@code lanewise(EXP)}: its result depends on whether C2 has compiled the caller (an SVML stub) or not
 * (a per-lane fallback), which would make results depend on timing; these are bit-identical everywhere.
 */
final class VMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two so that {@code x - n·ln2} is exact for the n that occur. */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float MAX_ARG = 88.3762626647949f, MIN_ARG = -87.3365447504019f;
    /** 1.5·2²³: adding it rounds a float below 2²² to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;

    private VMath() {
    }

    /**
     * {@code e^x} within 2 ulp on the normal range; 0 below {@code e^-87.34} (and for -∞), +∞ above
     * {@code e^88.38}, NaN stays NaN. The Cephes expf scheme: {@code x = n·ln2 + r}, |r| ≤ ln2/2, degree-6 polynomial for
     * {@code e^r}, then {@code 2^n} built in the exponent bits.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector e = expClamped(x.min(MAX_ARG).max(MIN_ARG));
        // min/max do not carry NaN through on every platform: put it back, a NaN score is a bug to see.
        return e.blend(0f, x.compare(VectorOperators.LT, MIN_ARG)).blend(x, x.test(VectorOperators.IS_NAN));
    }

    /** {@link #exp} for arguments known to be ≤ 0 or -∞ (softmax after subtracting the maximum): fewer checks. */
    static FloatVector expNonPositive(FloatVector x) {
        return expClamped(x.max(MIN_ARG)).blend(0f, x.compare(VectorOperators.LT, MIN_ARG));
    }

    /**
     * {@code 2^x} for {@code x ≤ 0} or -∞ (a softmax whose scores carry the factor log2(e)), within 4 ulp down
     * to {@code 2^-126} and 0 below {@code 2^-126.5}; NaN stays NaN. Cheaper than {@link #expNonPositive}: no
     * ln 2 range reduction ({@code x = n + r}, |r| ≤ 1/2), a degree-5 polynomial, and compare-blend rather
     * than {@code max} (whose Java NaN and signed-zero rules cost C2 several instructions per vector).
     */
    static FloatVector exp2NonPositive(FloatVector x) {
        // At -127, n = -127 builds the float with exponent field 0: exactly 0, so no separate underflow blend.
        x = x.blend(-127f, x.compare(VectorOperators.LT, -127f));
        FloatVector t = x.add(ROUNDER);
        FloatVector r = x.sub(t.sub(ROUNDER));
        FloatVector p = FloatVector.broadcast(F, 1.327647129073739e-3f);
        p = p.fma(r, FloatVector.broadcast(F, 9.675540961325169e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 5.550713092088699e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 2.4022120237350464e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 6.931469440460205e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        // 2^n: t's bits are those of ROUNDER plus n, whose low 9 bits are 0; n + 127 shifted into the exponent.
        FloatVector scale = t.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale);
    }

    /** e^c for c in [MIN_ARG, MAX_ARG]. */
    private static FloatVector expClamped(FloatVector c) {
        FloatVector t = c.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUNDER));
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = FloatVector.broadcast(F, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(F, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        p = p.fma(r.mul(r), r.add(1f));
        // 2^n: n + 127 in the exponent field; n sits in t's low mantissa bits.
        FloatVector scale = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER) - 127)
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale);
    }

    /**
     * The lanes' sum, added first to last. Not {@code reduceLanes(ADD)}: its order is unspecified and differs
     * between C2's intrinsic and the interpreter's fallback, so results would change once a caller is compiled.
     */
    static float sumLanes(FloatVector v) {
        float sum = 0;
        for (int i = 0; i < v.length(); i++) {
            sum += v.lane(i);
        }
        return sum;
    }

    /**
     * {@code x / (1 + e^-x)}, computed as {@code x·s / (1 + t)} with {@code t = e^-|x|}, which never overflows
     * and so needs the cheaper {@link #exp2NonPositive}, and {@code s} 1 for x ≥ 0, t below (then
     * {@code x·e^x / (1 + e^x)} is the same function).
     */
    static FloatVector silu(FloatVector x) {
        FloatVector t = exp2NonPositive(x.abs().mul(-LOG2E));
        return x.mul(t.blend(1f, x.compare(VectorOperators.GE, 0f))).div(t.add(1f));
    }

    /** Exact GELU {@code x·Φ(x) = x·erfc(-x/√2)/2}, erfc as in {@link ScalarKernels#erfc}. */
    static FloatVector gelu(FloatVector x) {
        FloatVector z = x.mul(-0.70710677f), a = z.abs();
        FloatVector t = a.fma(0.5f, 1f);
        t = FloatVector.broadcast(F, 1f).div(t);
        FloatVector p = FloatVector.broadcast(F, 0.17087277f);
        p = p.fma(t, FloatVector.broadcast(F, -0.82215223f));
        p = p.fma(t, FloatVector.broadcast(F, 1.48851587f));
        p = p.fma(t, FloatVector.broadcast(F, -1.13520398f));
        p = p.fma(t, FloatVector.broadcast(F, 0.27886807f));
        p = p.fma(t, FloatVector.broadcast(F, -0.18628806f));
        p = p.fma(t, FloatVector.broadcast(F, 0.09678418f));
        p = p.fma(t, FloatVector.broadcast(F, 0.37409196f));
        p = p.fma(t, FloatVector.broadcast(F, 1.00002368f));
        p = p.fma(t, FloatVector.broadcast(F, -1.26551223f));
        // The exponent is ln(erfc(|z|)/t) <= 0 (0 at z = 0, up to rounding), so the cheap exp2 serves.
        FloatVector r = t.mul(exp2NonPositive(a.neg().fma(a, p).mul(LOG2E)));
        FloatVector erfc = r.blend(r.neg().add(2f), z.compare(VectorOperators.LT, 0f));
        return x.mul(0.5f).mul(erfc);
    }

    /** GELU, tanh form: {@code x/2·(1 + tanh(u))}, {@code u = √(2/π)(x + 0.044715x³)}; 1 + tanh(u) = 2 - 2/(e^2u + 1). */
    static FloatVector geluTanh(FloatVector x) {
        FloatVector u = x.mul(x).mul(0.044715f).fma(x, x).mul(2 * ScalarKernels.SQRT_2_OVER_PI);
        FloatVector onePlusTanh = FloatVector.broadcast(F, 2f).sub(FloatVector.broadcast(F, 2f).div(exp(u).add(1f)));
        return x.mul(0.5f).mul(onePlusTanh);
    }
}
