package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every value of cases/torch_rng must come out bit for bit (golden README §8). */
class TorchGeneratorTest {
    private static Golden golden;

    @BeforeAll
    static void load() {
        golden = Golden.load("torch_rng/randn");
    }

    private static int[] shapeOf(Object jsonShape) {
        double[] d = Golden.doubles(jsonShape);
        int[] s = new int[d.length];
        for (int i = 0; i < d.length; i++) {
            s[i] = (int) d[i];
        }
        return s;
    }

    /** Compares float bit patterns, so that -0.0 vs 0.0 or a last-ulp difference fails. */
    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    @Test
    void engineWordsEqualMt19937() {
        for (long seed : new long[] {0, 42, 4294967295L}) {
            long[] expected = golden.i64("mt19937.seed" + seed + ".first16_u32");
            TorchGenerator g = new TorchGenerator(seed);
            long[] actual = new long[16];
            for (int i = 0; i < 16; i++) {
                actual[i] = g.nextInt() & 0xffffffffL;
            }
            assertArrayEquals(expected, actual, "seed " + seed);
        }
    }

    @Test
    void randMatchesTorchRand() {
        float[] out = new float[20];
        new TorchGenerator(0).rand(out);
        assertBitsEqual(golden.f("rand.seed0.20"), out, "rand.seed0.20");
    }

    @Test
    void freshGeneratorDrawsAreBitExact() {
        List<?> draws = (List<?>) golden.at("fresh_generator_draws");
        assertEquals(20, draws.size());
        for (Object d : draws) {
            Map<?, ?> draw = (Map<?, ?>) d;
            String name = (String) draw.get("tensor");
            long seed = ((Number) draw.get("seed")).longValue();
            float[] actual = new TorchGenerator(seed).randn(shapeOf(draw.get("shape")));
            assertBitsEqual(golden.f(name), actual, name);
        }
    }

    @Test
    void consecutiveDrawsShareTheCachedNormal() {
        TorchGenerator g = new TorchGenerator(((Number) golden.at("sequence", "seed")).longValue());
        List<?> draws = (List<?>) golden.at("sequence", "draws");
        assertEquals(6, draws.size());
        for (Object d : draws) {
            Map<?, ?> draw = (Map<?, ?>) d;
            String name = (String) draw.get("tensor");
            assertBitsEqual(golden.f(name), g.randn(shapeOf(draw.get("shape"))), name);
        }
    }

    @Test
    void manualSeedRestartsTheStreamAndDropsTheCache() {
        TorchGenerator g = new TorchGenerator(42);
        g.randn(7); // leaves a cached normal behind
        g.manualSeed(42);
        assertBitsEqual(golden.f("randn.seed42.7"), g.randn(7), "after manualSeed");
    }

    @Test
    void rejectsNegativeDimensions() {
        assertThrows(IllegalArgumentException.class, () -> new TorchGenerator(1).randn(4, -1));
    }
}
