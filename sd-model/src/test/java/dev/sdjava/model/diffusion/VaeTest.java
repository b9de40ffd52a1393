package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.model.diffusion.Goldens.Source;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The VAE against cases/<model>/vae.safetensors (golden README §5.4), folder and single-file forms. */
class VaeTest {
    private static final Map<String, Map<String, float[]>> CASES = new ConcurrentHashMap<>();

    private static Map<String, float[]> golden(Source source) {
        return CASES.computeIfAbsent(source.model, m -> Goldens.caseTensors(m, "vae"));
    }

    @ParameterizedTest
    @EnumSource
    void decodeWithEveryIntermediate(Source source) {
        VaeDecoder decoder = VaeDecoder.load(source.checkpoint());
        Map<String, float[]> g = golden(source);
        Map<String, float[]> seen = new LinkedHashMap<>();
        assertEquals(64, decoder.imageSize(8));
        float[] image = new float[3 * 64 * 64];
        decoder.decode(g.get("decode.latents"), 1, 8, 8, image,
                (stage, index, data, length) -> seen.put(index < 0 ? stage : stage + "." + index, Arrays.copyOf(data, length)));
        for (Map.Entry<String, float[]> e : seen.entrySet()) {
            float[] expected = g.get("debug.decode." + e.getKey());
            if (expected != null) { // the golden keeps only the low-resolution ones
                assertEquals(expected.length, e.getValue().length, e.getKey() + " size");
                source.assertClose("debug.decode." + e.getKey(), expected, e.getValue());
            }
        }
        assertEquals(g.keySet().stream().filter(n -> n.startsWith("debug.decode.")).map(n -> n.substring(13))
                .collect(Collectors.toSet()), seen.keySet().stream().filter(n -> g.containsKey("debug.decode." + n))
                .collect(Collectors.toSet()), "intermediates compared");
        source.assertClose("decode.image", g.get("decode.image"), image);
    }

    /**
     * Also runs a square decode after the non-square one on the same instance, and again after releaseBuffers: the
     * reused workspace must not leak.
     */
    @ParameterizedTest
    @EnumSource(names = {"SD1_FOLDER", "SD2V_FOLDER", "SD1_SINGLE_FILE_F16"})
    void decodeNonSquareThenSquareOnTheSameWorkspace(Source source) {
        VaeDecoder decoder = VaeDecoder.load(source.checkpoint());
        Map<String, float[]> g = golden(source);
        float[] image = new float[3 * 64 * 96];
        decoder.decode(g.get("decode_nonsquare.latents"), 1, 8, 12, image);
        source.assertClose("decode_nonsquare.image", g.get("decode_nonsquare.image"), image);
        float[] square = new float[3 * 64 * 64];
        decoder.decode(g.get("decode.latents"), 1, 8, 8, square);
        source.assertClose("decode.image after the non-square one", g.get("decode.image"), square);
        decoder.releaseBuffers();
        decoder.decode(g.get("decode.latents"), 1, 8, 8, square);
        source.assertClose("decode.image after releaseBuffers", g.get("decode.image"), square);
    }

    @ParameterizedTest
    @EnumSource
    void encodeWithEveryIntermediateAndSample(Source source) {
        VaeEncoder encoder = VaeEncoder.load(source.checkpoint());
        Map<String, float[]> g = golden(source);
        Map<String, float[]> seen = new LinkedHashMap<>();
        assertEquals(8, encoder.latentSize(64));
        float[] mean = new float[4 * 8 * 8];
        float[] logvar = new float[4 * 8 * 8];
        encoder.encode(g.get("encode.image"), 1, 64, 64, mean, logvar,
                (stage, index, data, length) -> seen.put(index < 0 ? stage : stage + "." + index, Arrays.copyOf(data, length)));
        for (String name : List.of("down_blocks.1", "down_blocks.2", "down_blocks.3", "mid_block", "encoder_out")) {
            source.assertClose("debug.encode." + name, g.get("debug.encode." + name), seen.get(name));
        }
        source.assertClose("encode.moments", g.get("encode.moments"), seen.get("moments"));
        source.assertClose("encode.mean", g.get("encode.mean"), mean);
        source.assertClose("encode.logvar", g.get("encode.logvar"), logvar);

        float[] sample = new float[mean.length];
        encoder.sample(g.get("encode.mean"), g.get("encode.logvar"), g.get("encode.sample_noise"), mean.length, sample);
        source.assertClose("encode.sample_scaled", g.get("encode.sample_scaled"), sample);
    }
}
