package dev.sdjava.model.diffusion;

import static dev.sdjava.model.diffusion.Goldens.MAX_ABS;
import static dev.sdjava.model.diffusion.Goldens.REL_L2;
import static dev.sdjava.model.diffusion.Goldens.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.model.Weights;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The VAE against cases/<model>/vae.safetensors (golden README §5.4). */
class VaeTest {
    private static final float SCALING_FACTOR = 0.18215f;
    private static final Map<String, Weights> WEIGHTS = new ConcurrentHashMap<>();
    private static final Map<String, Map<String, float[]>> CASES = new ConcurrentHashMap<>();

    private static Weights weights(String model) {
        return WEIGHTS.computeIfAbsent(model, m -> Goldens.folder(m, "vae"));
    }

    private static Map<String, float[]> golden(String model) {
        return CASES.computeIfAbsent(model, m -> Goldens.caseTensors(m, "vae"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void configIsReadFromTheWeights(String model) {
        VaeConfig c = VaeDecoder.load(weights(model)).config();
        assertEquals(new VaeConfig(3, 4, List.of(32, 32, 64, 64), 2), c);
        assertEquals(8, c.downscale());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void decodeWithEveryIntermediate(String model) {
        VaeDecoder decoder = VaeDecoder.load(weights(model));
        Map<String, float[]> g = golden(model);
        Map<String, float[]> seen = new LinkedHashMap<>();
        float[] image = new float[3 * 64 * 64];
        decoder.decode(g.get("decode.latents"), 1, 8, 8, SCALING_FACTOR, image,
                (stage, index, data, length) -> seen.put(index < 0 ? stage : stage + "." + index, Arrays.copyOf(data, length)));
        for (Map.Entry<String, float[]> e : seen.entrySet()) {
            float[] expected = g.get("debug.decode." + e.getKey());
            if (expected != null) { // the golden keeps only the low-resolution ones
                assertEquals(expected.length, e.getValue().length, e.getKey() + " size");
                assertClose(model + " debug.decode." + e.getKey(), expected, e.getValue(), MAX_ABS, REL_L2);
            }
        }
        assertEquals(golden(model).keySet().stream().filter(n -> n.startsWith("debug.decode.")).map(n -> n.substring(13))
                .collect(Collectors.toSet()), seen.keySet().stream().filter(n -> g.containsKey("debug.decode." + n))
                .collect(Collectors.toSet()), "intermediates compared");
        assertClose(model + " decode.image", g.get("decode.image"), image, MAX_ABS, REL_L2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void decodeNonSquareThenUnscaledSquareOnTheSameWorkspace(String model) {
        VaeDecoder decoder = VaeDecoder.load(weights(model));
        Map<String, float[]> g = golden(model);
        float[] image = new float[3 * 64 * 96];
        decoder.decode(g.get("decode_nonsquare.latents"), 1, 8, 12, SCALING_FACTOR, image);
        assertClose(model + " decode_nonsquare.image", g.get("decode_nonsquare.image"), image, MAX_ABS, REL_L2);

        float[] fromZ = new float[3 * 64 * 64];
        decoder.decode(g.get("decode.z"), 1, 8, 8, 1f, fromZ);
        assertClose(model + " decode.image from decode.z", g.get("decode.image"), fromZ, MAX_ABS, REL_L2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void encodeWithEveryIntermediateAndSample(String model) {
        VaeEncoder encoder = VaeEncoder.load(weights(model));
        Map<String, float[]> g = golden(model);
        Map<String, float[]> seen = new LinkedHashMap<>();
        assertEquals(8, encoder.latentSize(64));
        float[] mean = new float[4 * 8 * 8];
        float[] logvar = new float[4 * 8 * 8];
        encoder.encode(g.get("encode.image"), 1, 64, 64, mean, logvar,
                (stage, index, data, length) -> seen.put(index < 0 ? stage : stage + "." + index, Arrays.copyOf(data, length)));
        for (String name : List.of("down_blocks.1", "down_blocks.2", "down_blocks.3", "mid_block", "encoder_out")) {
            assertClose(model + " debug.encode." + name, g.get("debug.encode." + name), seen.get(name), MAX_ABS, REL_L2);
        }
        assertClose(model + " encode.moments", g.get("encode.moments"), seen.get("moments"), MAX_ABS, REL_L2);
        assertClose(model + " encode.mean", g.get("encode.mean"), mean, MAX_ABS, REL_L2);
        assertClose(model + " encode.logvar", g.get("encode.logvar"), logvar, MAX_ABS, REL_L2);

        float[] sample = new float[mean.length];
        VaeEncoder.sample(g.get("encode.mean"), g.get("encode.logvar"), g.get("encode.sample_noise"), mean.length, 1f, sample);
        assertClose(model + " encode.sample", g.get("encode.sample"), sample, MAX_ABS, REL_L2);
        VaeEncoder.sample(g.get("encode.mean"), g.get("encode.logvar"), g.get("encode.sample_noise"), mean.length,
                SCALING_FACTOR, sample);
        assertClose(model + " encode.sample_scaled", g.get("encode.sample_scaled"), sample, MAX_ABS, REL_L2);
    }
}
