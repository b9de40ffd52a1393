package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.AttentionHeads;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.diffusion.Goldens.Source;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The U-Net against cases/<model>/unet.safetensors (golden README §5.3), for the SD 1 and SD 2 tiny models in
 * diffusers-folder and single-file form.
 */
class UNetTest {
    private static final Map<Source, UNet> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Map<String, float[]>> CASES = new ConcurrentHashMap<>();

    private static UNet unet(Source source) {
        return MODELS.computeIfAbsent(source, s -> UNet.load(s.checkpoint()));
    }

    private static Map<String, float[]> golden(Source source) {
        return CASES.computeIfAbsent(source.model, m -> Goldens.caseTensors(m, "unet"));
    }

    private static int contextTokens(Map<String, float[]> g, UNet unet) {
        return g.get("encoder_hidden_states").length / 2 / unet.config().crossAttentionDim();
    }

    @ParameterizedTest
    @EnumSource
    void batchOfTwoWithIntegerTimestepsAndEveryIntermediate(Source source) {
        UNet unet = unet(source);
        Map<String, float[]> g = golden(source);
        Map<String, float[]> seen = new LinkedHashMap<>();
        float[] out = new float[2 * 4 * 8 * 8];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_int64"), g.get("encoder_hidden_states"),
                contextTokens(g, unet), out,
                (stage, index, data, length) -> seen.put(index < 0 ? stage : stage + "." + index, Arrays.copyOf(data, length)));
        // In forward order, so that the first failure is where the computation departs from the reference.
        for (Map.Entry<String, float[]> e : seen.entrySet()) {
            float[] expected = g.get("debug." + e.getKey());
            assertEquals(expected.length, e.getValue().length, e.getKey() + " size");
            source.assertClose("debug." + e.getKey(), expected, e.getValue());
        }
        assertEquals(g.keySet().stream().filter(n -> n.startsWith("debug.")).map(n -> n.substring(6))
                .collect(Collectors.toSet()), seen.keySet(), "intermediates recorded");
        source.assertClose("out", g.get("out"), out);
    }

    @ParameterizedTest
    @EnumSource
    void fractionalTimesteps(Source source) {
        UNet unet = unet(source);
        Map<String, float[]> g = golden(source);
        float[] out = new float[2 * 4 * 8 * 8];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_fractional"), g.get("encoder_hidden_states"),
                contextTokens(g, unet), out);
        source.assertClose("out_fractional_timesteps", g.get("out_fractional_timesteps"), out);
    }

    @ParameterizedTest
    @EnumSource
    void oneTimestepForABatchOfOne(Source source) {
        UNet unet = unet(source);
        Map<String, float[]> g = golden(source);
        float[] out = new float[4 * 8 * 8];
        unet.forward(g.get("sample"), 1, 8, 8, new float[] {999}, g.get("encoder_hidden_states"), contextTokens(g, unet), out);
        source.assertClose("out_scalar_timestep_999_batch0", g.get("out_scalar_timestep_999_batch0"), out);
    }

    @ParameterizedTest
    @EnumSource
    void nonSquareLatentThatIsNotAMultipleOfEight(Source source) {
        UNet unet = unet(source);
        Map<String, float[]> g = golden(source);
        float[] out = new float[4 * 8 * 12];
        unet.forward(g.get("nonsquare.sample"), 1, 8, 12, g.get("nonsquare.timesteps_int64"),
                g.get("nonsquare.encoder_hidden_states"), contextTokens(g, unet), out);
        source.assertClose("nonsquare.out", g.get("nonsquare.out"), out);
    }

    /** The folder's config.json gives tiny-sd2v heads per level (2, 4, 4, 4); its LDM yaml a head size of 16: the same attention. */
    @Test
    void headSizeInsteadOfHeadsPerLevel() {
        Source source = Source.SD2V_FOLDER;
        Checkpoint checkpoint = source.checkpoint();
        UNet unet = UNet.load(checkpoint.unet(), checkpoint.config().unet(), AttentionHeads.ofHeadDim(16), Kernels.get());
        Map<String, float[]> g = golden(source);
        float[] out = new float[2 * 4 * 8 * 8];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_int64"), g.get("encoder_hidden_states"),
                contextTokens(g, unet), out);
        source.assertClose("out, head size 16", g.get("out"), out);
    }

    /** The workspace is reused across calls and sizes: a call after one at another size must give the same bits. */
    @ParameterizedTest
    @EnumSource(names = {"SD1_FOLDER", "SD2V_FOLDER"})
    void repeatedCallsAtChangingSizesGiveTheSameResult(Source source) {
        UNet unet = unet(source);
        Map<String, float[]> g = golden(source);
        int tokens = contextTokens(g, unet);
        float[] first = new float[2 * 4 * 8 * 8];
        float[] again = new float[2 * 4 * 8 * 8];
        float[] other = new float[4 * 8 * 12];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_fractional"), g.get("encoder_hidden_states"), tokens, first);
        unet.forward(g.get("nonsquare.sample"), 1, 8, 12, g.get("nonsquare.timesteps_int64"),
                g.get("nonsquare.encoder_hidden_states"), tokens, other);
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_fractional"), g.get("encoder_hidden_states"), tokens, again);
        assertArrayEquals(first, again);
    }
}
