package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference kernels against textbook formulas and published values. */
class ScalarKernelsTest {
    private final Kernels k = new ScalarKernels();

    @Test
    void linearComputesXWtPlusBiasFromF16Weights() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.allocate(arena, DType.F16, 2, 3);
            float[] wv = {1, 2, 3, -1, 0.5f, 0.25f};
            for (int i = 0; i < 6; i++) {
                w.dtype().writeFloat(w.data(), i, wv[i]);
            }
            Tensor b = Tensor.ofFloats(arena, new float[]{10, 20}, 2);
            LinearWeights lw = k.prepareLinear(w, b);
            float[] y = new float[4];
            k.linear(new float[]{1, 1, 1, 2, 0, -4}, 2, lw, y);
            assertArrayEquals(new float[]{16, 19.75f, 0, 17}, y);
        }
    }

    @Test
    void convMatchesTheFormulaForEveryPaddingAndStride() {
        Random rnd = new Random(1);
        int[][] cases = { // in, out, h, w, k, stride, padTop, padLeft, oh, ow
                {3, 4, 7, 5, 3, 1, 1, 1, 7, 5}, {2, 3, 8, 6, 3, 2, 1, 1, 4, 3}, {5, 2, 4, 4, 1, 1, 0, 0, 4, 4},
                {2, 2, 6, 6, 3, 2, 0, 0, 3, 3}}; // the last: the VAE's asymmetric pad-right/bottom downsampling
        try (Arena arena = Arena.ofConfined()) {
            for (int[] c : cases) {
                float[] w = Naive.random(rnd, c[1] * c[0] * c[4] * c[4]), bias = Naive.random(rnd, c[1]);
                float[] x = Naive.random(rnd, 2 * c[0] * c[2] * c[3]);
                ConvWeights cw = k.prepareConv(Tensor.ofFloats(arena, w, c[1], c[0], c[4], c[4]),
                        Tensor.ofFloats(arena, bias, c[1]));
                float[] y = new float[2 * c[1] * c[8] * c[9]];
                k.conv2d(x, 2, c[2], c[3], cw, c[5], c[6], c[7], c[8], c[9], y);
                float[] want = Naive.conv(x, 2, c[0], c[2], c[3], w, bias, c[1], c[4], c[4], c[5], c[6], c[7], c[8], c[9]);
                assertTrue(Naive.worst(y, want, want.length, 1e-5, 1e-5) <= 1);
            }
        }
    }

    @Test
    void attentionMatchesFullSoftmaxAlsoCausal() {
        Random rnd = new Random(2);
        for (boolean causal : new boolean[]{false, true}) {
            int b = 2, h = 3, q = 5, n = 7, d = 4;
            float[] qs = Naive.random(rnd, b * q * h * d), ks = Naive.random(rnd, b * n * h * d), vs = Naive.random(rnd, b * n * h * d);
            float[] out = new float[qs.length];
            k.attention(qs, ks, vs, b, h, q, n, d, 0.5f, causal, out);
            float[] want = Naive.attention(qs, ks, vs, b, h, q, n, d, 0.5f, causal);
            assertTrue(Naive.worst(out, want, want.length, 1e-5, 1e-4) <= 1);
        }
    }

    @Test
    void activationsMatchPublishedValues() {
        float[] x = {-3, -1, 0, 0.5f, 2};
        float[] y = new float[5];
        k.gelu(x, 5, y); // x·Φ(x)
        assertArrayEquals(new float[]{-0.0040496934f, -0.15865526f, 0, 0.34573123f, 1.9544997f}, y, 2e-7f);
        k.silu(x, 5, y);
        assertArrayEquals(new float[]{-0.14227763f, -0.26894143f, 0, 0.31122968f, 1.7615942f}, y, 2e-7f);
        k.geluTanh(x, 5, y);
        assertArrayEquals(new float[]{-0.0036373304f, -0.15880801f, 0, 0.34571401f, 1.9545977f}, y, 2e-7f);
        k.quickGelu(x, 5, y);
        assertEquals(2 / (1 + Math.exp(-3.404)), y[4], 1e-6);
    }

    @Test
    void groupNormNormalisesEachGroupThenAppliesSilu() {
        float[] x = {1, 2, 3, 4, 10, 10, 10, 14};
        float[] y = new float[8];
        k.groupNorm(x, 1, 4, 2, 2, 0, new float[]{1, 1, 2, 2}, new float[]{0, 0, 1, 1}, false, y);
        float s = (float) Math.sqrt(1.25);
        assertArrayEquals(new float[]{-1.5f / s, -0.5f / s, 0.5f / s, 1.5f / s, 1 - 2 / (float) Math.sqrt(3),
                1 - 2 / (float) Math.sqrt(3), 1 - 2 / (float) Math.sqrt(3), 1 + 6 / (float) Math.sqrt(3)}, y, 1e-6f);
        float[] z = new float[8];
        k.groupNorm(x, 1, 4, 2, 2, 0, new float[]{1, 1, 2, 2}, new float[]{0, 0, 1, 1}, true, z);
        for (int i = 0; i < 8; i++) {
            assertEquals(y[i] / (1 + Math.exp(-y[i])), z[i], 1e-6);
        }
    }

    @Test
    void timestepEmbeddingIsCosSinOfScaledFrequencies() {
        float[] y = new float[8];
        k.timestepEmbedding(new float[]{999}, 1, 8, true, 0, y);
        for (int j = 0; j < 4; j++) {
            double arg = 999 * Math.exp(-Math.log(10000) * j / 4);
            assertEquals(Math.cos(arg), y[j], 2e-3);
            assertEquals(Math.sin(arg), y[4 + j], 2e-3);
        }
    }

    @Test
    void layoutKernelsMoveEveryElement() {
        float[] x = {1, 2, 3, 4, 5, 6}; // [1, 2 channels, 3 spatial]
        float[] t = new float[6], back = new float[6];
        k.toTokens(x, 1, 2, 3, t);
        assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, t);
        k.fromTokens(t, 1, 2, 3, back);
        assertArrayEquals(x, back);
        float[] up = new float[8];
        k.upsampleNearest(new float[]{1, 2, 3, 4}, 1, 2, 2, 2, 4, up);
        assertArrayEquals(new float[]{1, 1, 2, 2, 3, 3, 4, 4}, up);
        float[] cat = new float[6];
        k.concatChannels(new float[]{1, 2}, 1, new float[]{3, 4, 5, 6}, 2, 1, 2, cat);
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, cat);
    }

    @Test
    void badArgumentsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> k.add(new float[3], new float[2], 3, new float[3]));
        assertTrue(e.getMessage().contains("add"), e.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.allocate(arena, DType.F32, 2, 3, 3);
            var c = assertThrows(IllegalArgumentException.class, () -> k.prepareConv(w, null));
            assertTrue(c.getMessage().contains("[out, in, kh, kw]"), c.getMessage());
        }
    }
}
