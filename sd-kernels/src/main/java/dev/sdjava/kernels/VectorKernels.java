package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels. Each hot loop is a small static method with no mode flags, so that C2 inlines
 * every vector operation (a vector that escapes a non-inlined call is boxed, and a kernel becomes 10-100x
 * slower). Kernels not overridden here are the scalar ones: either C2 vectorises them already (F16
 * conversion, copies) or they are not on the hot path.
 */
public class VectorKernels extends ScalarKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    public VectorKernels() {
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    // ---- element-wise ----

    @Override
    public void add(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "add");
        need(y, n, "add y");
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = a[i] + b[i];
        }
    }

    @Override
    public void mul(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "mul");
        need(y, n, "mul y");
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = a[i] * b[i];
        }
    }

    @Override
    public void scale(float[] x, float s, int n, float[] y) {
        need2(x, y, n, "scale");
        int i = 0;
        for (int end = F.loopBound(n); i < end; i += L) {
            FloatVector.fromArray(F, x, i).mul(s).intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = s * x[i];
        }
    }

    // ---- conversion ----

    /** bf16 is the top half of a float: zero-extend each 16-bit pattern to 32 bits and shift it up. */
    @Override
    public void bf16ToF32(short[] x, int n, float[] y) {
        need(x, n, "bf16ToF32 x");
        need(y, n, "bf16ToF32 y");
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            ShortVector.fromArray(S, x, i)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = Float.intBitsToFloat((x[i] & 0xffff) << 16);
        }
    }
}
