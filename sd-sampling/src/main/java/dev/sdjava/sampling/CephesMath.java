package dev.sdjava.sampling;

/**
 * float32 log, sin and cos exactly as torch's {@code avx_mathfun.h} computes them (Cephes
 * polynomials, after Julien Pommier's sse_mathfun). torch's kernels are compiled with FMA
 * contraction, so every "multiply, then add" of the C source is one fused {@link Math#fma}
 * here; that is what makes {@link TorchGenerator}'s normals bit-identical to torch's. Valid for
 * the arguments torch's Box-Muller passes: log of (0, 1], sin/cos of [0, 2π).
 */
final class CephesMath {
    private CephesMath() {}

    private static final float SQRTHF = 0.707106781186547524f;
    private static final float LOG_P0 = 7.0376836292E-2f;
    private static final float LOG_P1 = -1.1514610310E-1f;
    private static final float LOG_P2 = 1.1676998740E-1f;
    private static final float LOG_P3 = -1.2420140846E-1f;
    private static final float LOG_P4 = 1.4249322787E-1f;
    private static final float LOG_P5 = -1.6668057665E-1f;
    private static final float LOG_P6 = 2.0000714765E-1f;
    private static final float LOG_P7 = -2.4999993993E-1f;
    private static final float LOG_P8 = 3.3333331174E-1f;
    private static final float LOG_Q1 = -2.12194440e-4f;
    private static final float LOG_Q2 = 0.693359375f;

    private static final float FOPI = 1.27323954473516f; // 4/π
    private static final float MINUS_DP1 = -0.78515625f;
    private static final float MINUS_DP2 = -2.4187564849853515625e-4f;
    private static final float MINUS_DP3 = -3.77489497744594108e-8f;
    private static final float SIN_P0 = -1.9515295891E-4f;
    private static final float SIN_P1 = 8.3321608736E-3f;
    private static final float SIN_P2 = -1.6666654611E-1f;
    private static final float COS_P0 = 2.443315711809948E-005f;
    private static final float COS_P1 = -1.388731625493765E-003f;
    private static final float COS_P2 = 4.166664568298827E-002f;

    /** Natural logarithm of a positive float ({@code log256_ps}); NaN for x <= 0. */
    static float log(float x) {
        if (!(x > 0)) {
            return Float.NaN;
        }
        x = Math.max(x, Float.MIN_NORMAL);
        int bits = Float.floatToRawIntBits(x);
        float e = (float) ((bits >>> 23) - 0x7f) + 1.0f;
        // mantissa scaled into [0.5, 1)
        x = Float.intBitsToFloat((bits & ~0x7f800000) | Float.floatToRawIntBits(0.5f));
        if (x < SQRTHF) {
            e -= 1.0f;
            x = (x - 1.0f) + x;
        } else {
            x = x - 1.0f;
        }
        float z = x * x;
        float y = Math.fma(LOG_P0, x, LOG_P1);
        y = Math.fma(y, x, LOG_P2);
        y = Math.fma(y, x, LOG_P3);
        y = Math.fma(y, x, LOG_P4);
        y = Math.fma(y, x, LOG_P5);
        y = Math.fma(y, x, LOG_P6);
        y = Math.fma(y, x, LOG_P7);
        y = Math.fma(y, x, LOG_P8);
        y = y * x;
        // the compiler fused "· z" (not e·q1) into the addition of e·q1
        y = Math.fma(y, z, e * LOG_Q1);
        y = Math.fma(-z, 0.5f, y);
        return Math.fma(e, LOG_Q2, x + y);
    }

    /** sin(x) ({@code sincos256_ps}, sine half). */
    static float sin(float x) {
        return sinCos(x, true);
    }

    /** cos(x) ({@code sincos256_ps}, cosine half). */
    static float cos(float x) {
        return sinCos(x, false);
    }

    private static float sinCos(float x, boolean wantSin) {
        boolean negative = x < 0 || (x == 0 && Float.floatToRawIntBits(x) != 0);
        x = Math.abs(x);
        // octant j = (trunc(x·4/π) + 1) & ~1
        int j = ((int) (x * FOPI) + 1) & ~1;
        float y = j;
        boolean sinFlip = (j & 4) != 0;
        boolean cosFlip = ((j - 2) & 4) == 0;
        boolean sinPolyForSin = (j & 2) == 0;
        // extended-precision reduction x - j·π/4
        x = Math.fma(y, MINUS_DP1, x);
        x = Math.fma(y, MINUS_DP2, x);
        x = Math.fma(y, MINUS_DP3, x);
        float z = x * x;
        float cosPoly = Math.fma(COS_P0, z, COS_P1);
        cosPoly = Math.fma(cosPoly, z, COS_P2);
        cosPoly = cosPoly * z;
        // the compiler fused "· z" into the subtraction of z/2
        cosPoly = Math.fma(cosPoly, z, -(z * 0.5f));
        cosPoly = cosPoly + 1.0f;
        float sinPoly = Math.fma(SIN_P0, z, SIN_P1);
        sinPoly = Math.fma(sinPoly, z, SIN_P2);
        sinPoly = sinPoly * z;
        sinPoly = Math.fma(sinPoly, x, x);
        if (wantSin) {
            float s = sinPolyForSin ? sinPoly : cosPoly;
            return (negative ^ sinFlip) ? -s : s;
        }
        float c = sinPolyForSin ? cosPoly : sinPoly;
        return cosFlip ? -c : c;
    }
}
