package dev.sdjava.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The same call gives the same bits before and after C2 compiles the kernels: reductions must not depend on
 * whether a Vector API operation runs as an intrinsic or as its Java fallback (same seed, same image).
 */
class CompiledEqualsInterpretedTest {
    @Test
    void reductionsKeepTheirBitsAcrossJitCompilation() {
        VectorKernels k = new VectorKernels();
        Random random = new Random(3);
        int channels = 32;
        int spatial = 67;
        float[] x = new float[channels * spatial];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian() * 3 + 1;
        }
        float[] gamma = new float[channels];
        float[] beta = new float[channels];
        java.util.Arrays.fill(gamma, 1.3f);
        java.util.Arrays.fill(beta, 0.1f);
        float[] first = null;
        float[] firstSoftmax = null;
        for (int round = 0; round < 20_000; round++) {
            float[] y = new float[x.length];
            k.groupNorm(x, 1, channels, spatial, 8, 1e-5f, gamma, beta, false, y);
            k.layerNorm(x, channels, spatial, 1e-5f, repeat(1.1f, spatial), repeat(0.2f, spatial), y);
            float[] s = x.clone();
            k.softmax(s, channels, spatial);
            if (first == null) {
                first = y;
                firstSoftmax = s;
            } else if (round % 1000 == 0 || round == 19_999) {
                assertArrayEquals(first, y, "norms changed bits in round " + round);
                assertArrayEquals(firstSoftmax, s, "softmax changed bits in round " + round);
            }
        }
    }

    private static float[] repeat(float v, int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
