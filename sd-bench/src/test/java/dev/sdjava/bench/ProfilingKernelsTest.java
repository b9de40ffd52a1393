package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.sdjava.kernels.ConvWeights;
import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.kernels.ScalarKernels;
import dev.sdjava.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProfilingKernelsTest {
    @Test
    void forwardsCallsAndCountsThemByKind() {
        Kernels plain = new ScalarKernels();
        ProfilingKernels profiling = new ProfilingKernels(plain);
        Kernels k = profiling.kernels();
        try (Arena arena = Arena.ofConfined()) {
            float[] wv = new float[6 * 4];
            for (int i = 0; i < wv.length; i++) {
                wv[i] = (i % 7) * 0.25f - 0.5f;
            }
            Tensor weight = Tensor.ofFloats(arena, wv, 6, 4);
            LinearWeights w = k.prepareLinear(weight, null);
            float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
            float[] viaProxy = new float[3 * 6];
            float[] direct = new float[3 * 6];
            k.linear(x, 3, w, viaProxy);
            plain.linear(x, 3, plain.prepareLinear(weight, null), direct);
            assertArrayEquals(direct, viaProxy);
            k.silu(x, x.length, x);
            k.silu(x, x.length, x);
        }
        Map<String, Map<String, Object>> b = profiling.breakdown();
        assertEquals(1L, b.get("linear").get("calls"));
        assertEquals(2.0 * 3 * 4 * 6, (double) b.get("linear").get("flops"));
        assertEquals(2L, b.get("other").get("calls"));
        assertFalse(b.containsKey("conv"));
        profiling.reset();
        assertEquals(Map.of(), profiling.breakdown());
    }

    @Test
    void countsConvFromItsWeightsAndOutputSize() {
        ProfilingKernels profiling = new ProfilingKernels(new ScalarKernels());
        Kernels k = profiling.kernels();
        try (Arena arena = Arena.ofConfined()) {
            // 2 -> 3 channels, 3x3, stride 2, padding 1: 5x5 input, 3x3 output, batch 2.
            ConvWeights w = k.prepareConv(Tensor.ofFloats(arena, new float[3 * 2 * 9], 3, 2, 3, 3), null);
            k.conv2d(new float[2 * 2 * 25], 2, 5, 5, w, 2, 1, 1, 3, 3, new float[2 * 3 * 9]);
        }
        assertEquals(2 * Flops.conv(2, 3, 3, 3, 3), (double) profiling.breakdown().get("conv").get("flops"));
    }

    @Test
    void countsAttentionFromItsArguments() {
        assertEquals(Flops.attention(2, 8, 4096, 77, 40),
                ProfilingKernels.flops("attention", new Object[] {null, null, null, 2, 8, 4096, 77, 40, 0f, false, null}));
        assertEquals(0, ProfilingKernels.flops("silu", new Object[] {null, 1, null}));
    }
}
