package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;
import dev.sdjava.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The VAE decoder's memory-saving paths against the plain ones they stand in for, on random weights. */
class LeanPathsTest {
    private static final Kernels K = Kernels.get();

    /**
     * 45x7 doubles to 90x14: a band of 64 rows and one of 26. With 8 channels the convolution is the implicit GEMM,
     * whose sums do not depend on where an image starts, so the bits match; with 40 it is Winograd, whose tiles
     * start at each band's first row (and the short band takes F(2x2)), so they match to rounding.
     */
    @ParameterizedTest
    @ValueSource(ints = {8, 40})
    void upsampleInBandsMatchesTheWholeImage(int channels) {
        Random random = new Random(channels);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new HashMap<>();
            put(tensors, arena, random, "up.conv.weight", channels, channels, 3, 3);
            put(tensors, arena, random, "up.conv.bias", channels);
            Upsample up = Upsample.load(K, Weights.of(tensors, "random"), "up", channels);
            float[] x = Goldens.gaussian(random, 2 * channels * 45 * 7);
            float[] whole = new float[2 * channels * 90 * 14];
            float[] banded = new float[whole.length];
            up.forward(x, 2, 45, 7, 90, 14, whole, new Workspace());
            up.forwardInBands(x, 2, 45, 7, banded, new Workspace());
            if (channels < 32) {
                assertArrayEquals(whole, banded);
            } else {
                Goldens.assertClose("upsampled in bands", whole, banded, Goldens.MAX_ABS, Goldens.REL_L2);
            }
        }
    }

    /** Spending its input changes only which buffers a resnet uses: 64 -> 32 spends it, 32 -> 64 and 32 -> 32 cannot. */
    @Test
    void resnetSpendingItsInputGivesTheSameBits() {
        Random random = new Random(5);
        for (int[] io : new int[][] {{64, 32}, {32, 64}, {32, 32}}) {
            int in = io[0], out = io[1];
            try (Arena arena = Arena.ofConfined()) {
                Map<String, Tensor> tensors = new HashMap<>();
                for (String norm : new String[] {"norm1", "norm2"}) {
                    int channels = norm.equals("norm1") ? in : out;
                    put(tensors, arena, random, "r." + norm + ".weight", channels);
                    put(tensors, arena, random, "r." + norm + ".bias", channels);
                }
                put(tensors, arena, random, "r.conv1.weight", out, in, 3, 3);
                put(tensors, arena, random, "r.conv1.bias", out);
                put(tensors, arena, random, "r.conv2.weight", out, out, 3, 3);
                put(tensors, arena, random, "r.conv2.bias", out);
                if (in != out) {
                    put(tensors, arena, random, "r.conv_shortcut.weight", out, in, 1, 1);
                    put(tensors, arena, random, "r.conv_shortcut.bias", out);
                }
                ResnetBlock resnet = ResnetBlock.load(K, Weights.of(tensors, "random"), "r", in, out, 0, 1e-6f);
                float[] x = Goldens.gaussian(random, 2 * in * 9 * 11);
                float[] input = x.clone();
                float[] kept = new float[2 * out * 9 * 11];
                float[] spent = new float[kept.length];
                resnet.forward(x, 2, 9, 11, null, kept, new Workspace());
                assertArrayEquals(input, x, "forward keeps its input");
                resnet.forwardSpendingInput(x, 2, 9, 11, null, spent, new Workspace());
                assertArrayEquals(kept, spent, in + " -> " + out);
            }
        }
    }

    private static void put(Map<String, Tensor> tensors, Arena arena, Random random, String name, long... shape) {
        float[] values = Goldens.gaussian(random, Math.toIntExact(Tensor.elementCount(shape)));
        for (int i = 0; i < values.length; i++) {
            values[i] *= 0.1f;
        }
        tensors.put(name, Tensor.ofFloats(arena, values, shape));
    }
}
