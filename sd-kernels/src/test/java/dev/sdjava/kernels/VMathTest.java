package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VMathTest {

    /** Every 9973rd float bit pattern between -87 and 88. */
    @Test
    void expIsWithinTwoUlpOverTheWholeRange() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes], y = new float[lanes];
        double worst = 0;
        for (long bits = 0; bits < 0xffffffffL; bits += 9973) {
            float v = Float.intBitsToFloat((int) bits);
            if (!(v > -87f && v < 88f)) {
                continue;
            }
            x[(int) (bits % lanes)] = v;
            FloatVector r = VMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0));
            r.intoArray(y, 0);
            for (int i = 0; i < lanes; i++) {
                double want = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
    }

    @Test
    void theNonPositiveVariantAgreesBitForBit() {
        var species = FloatVector.SPECIES_PREFERRED;
        float[] x = new float[species.length()], a = new float[x.length], b = new float[x.length];
        for (int i = 0; i <= 20000; i++) {
            x[i % x.length] = i == 20000 ? Float.NEGATIVE_INFINITY : -i * 0.0047f;
            VMath.exp(FloatVector.fromArray(species, x, 0)).intoArray(a, 0);
            VMath.expNonPositive(FloatVector.fromArray(species, x, 0)).intoArray(b, 0);
            for (int j = 0; j < x.length; j++) {
                assertEquals(Float.floatToRawIntBits(a[j]), Float.floatToRawIntBits(b[j]), "exp(" + x[j] + ")");
            }
        }
    }

    /** Every 997th float bit pattern in [-126, 0], against 2^x in double. */
    @Test
    void exp2IsWithinFourUlpOnTheNonPositiveRange() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes], y = new float[lanes];
        double worst = 0;
        for (long bits = 0x80000000L; bits <= 0xc2fc0000L; bits += 997) { // -0 down to -126
            x[(int) (bits % lanes)] = Float.intBitsToFloat((int) bits);
            VMath.exp2NonPositive(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int i = 0; i < lanes; i++) {
                double want = Math.pow(2, x[i]);
                worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
            }
        }
        assertTrue(worst <= 4, "worst error " + worst + " ulp");
    }

    @Test
    void exp2UnderflowsToZeroAndKeepsNaN() {
        float[] x = wholeVectors(6), y = new float[x.length];
        x[0] = Float.NEGATIVE_INFINITY;
        x[1] = -127;
        x[2] = -1e30f;
        x[3] = Float.NaN;
        x[5] = -1;
        for (int i = 0; i < x.length; i += FloatVector.SPECIES_PREFERRED.length()) {
            VMath.exp2NonPositive(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(y, i);
        }
        assertEquals(0f, y[0]);
        assertEquals(0f, y[1]);
        assertEquals(0f, y[2]);
        assertTrue(Float.isNaN(y[3]));
        assertEquals(1f, y[4]);
        assertEquals(0.5f, y[5]);
    }

    @Test
    void expSaturatesAtTheEnds() {
        float[] x = wholeVectors(5), y = new float[x.length];
        x[0] = Float.NEGATIVE_INFINITY;
        x[1] = -100;
        x[2] = Float.POSITIVE_INFINITY;
        x[3] = Float.NaN;
        for (int i = 0; i < x.length; i += FloatVector.SPECIES_PREFERRED.length()) {
            VMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(y, i);
        }
        assertEquals(0f, y[0]);
        assertEquals(0f, y[1]);
        assertTrue(y[2] > 2e38f); // saturates near Float.MAX_VALUE
        assertTrue(Float.isNaN(y[3]));
        assertEquals(1f, y[4]);
    }

    /** Zeros for at least {@code n} values, in whole vectors: 128-bit vectors hold only 4. */
    private static float[] wholeVectors(int n) {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        return new float[Math.ceilDiv(n, lanes) * lanes];
    }
}
