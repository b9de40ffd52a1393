package dev.sdjava.model.diffusion;

import static dev.sdjava.model.diffusion.Goldens.MAX_ABS;
import static dev.sdjava.model.diffusion.Goldens.REL_L2;
import static dev.sdjava.model.diffusion.Goldens.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.model.AttentionHeads;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The U-Net against cases/<model>/unet.safetensors (golden README §5.3), for the SD 1 and SD 2 tiny models. */
class UNetTest {
    private static final Map<String, UNet> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Map<String, float[]>> CASES = new ConcurrentHashMap<>();

    /** Heads as the models' configs give them (README §3): tiny-sd1 2 per level, tiny-sd2v head size 16. */
    static AttentionHeads heads(String model) {
        return model.equals("tiny-sd1") ? AttentionHeads.perLevel(2) : AttentionHeads.ofHeadDim(16);
    }

    private static UNet unet(String model) {
        return MODELS.computeIfAbsent(model, m -> UNet.load(Goldens.folder(m, "unet"), heads(m)));
    }

    private static Map<String, float[]> golden(String model) {
        return CASES.computeIfAbsent(model, m -> Goldens.caseTensors(m, "unet"));
    }

    private static int contextTokens(Map<String, float[]> g, int batch, UNet unet) {
        return g.get("encoder_hidden_states").length / batch / unet.config().crossAttentionDim();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void configIsReadFromTheWeights(String model) {
        UNetConfig c = unet(model).config();
        boolean sd2 = model.equals("tiny-sd2v");
        assertEquals(new UNetConfig(4, 4, List.of(32, 64, 64, 64), 2, List.of(true, true, true, false),
                sd2 ? 64 : 32, 128, sd2), c);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void batchOfTwoWithIntegerTimestepsAndEveryIntermediate(String model) {
        UNet unet = unet(model);
        Map<String, float[]> g = golden(model);
        Map<String, float[]> seen = new LinkedHashMap<>();
        float[] out = new float[2 * 4 * 8 * 8];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_int64"), g.get("encoder_hidden_states"),
                contextTokens(g, 2, unet), out,
                (stage, index, data, length) -> seen.put(index < 0 ? stage : stage + "." + index, Arrays.copyOf(data, length)));
        // In forward order, so that the first failure is where the computation departs from the reference.
        for (Map.Entry<String, float[]> e : seen.entrySet()) {
            float[] expected = g.get("debug." + e.getKey());
            assertEquals(expected.length, e.getValue().length, e.getKey() + " size");
            assertClose(model + " debug." + e.getKey(), expected, e.getValue(), MAX_ABS, REL_L2);
        }
        assertEquals(g.keySet().stream().filter(n -> n.startsWith("debug.")).map(n -> n.substring(6))
                .collect(Collectors.toSet()), seen.keySet(), "intermediates recorded");
        assertClose(model + " out", g.get("out"), out, MAX_ABS, REL_L2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void fractionalTimesteps(String model) {
        UNet unet = unet(model);
        Map<String, float[]> g = golden(model);
        float[] out = new float[2 * 4 * 8 * 8];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_fractional"), g.get("encoder_hidden_states"),
                contextTokens(g, 2, unet), out);
        assertClose(model + " out_fractional_timesteps", g.get("out_fractional_timesteps"), out, MAX_ABS, REL_L2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void oneTimestepForABatchOfOne(String model) {
        UNet unet = unet(model);
        Map<String, float[]> g = golden(model);
        int tokens = contextTokens(g, 2, unet);
        float[] out = new float[4 * 8 * 8];
        unet.forward(g.get("sample"), 1, 8, 8, new float[] {999}, g.get("encoder_hidden_states"), tokens, out);
        assertClose(model + " out_scalar_timestep_999_batch0", g.get("out_scalar_timestep_999_batch0"), out, MAX_ABS, REL_L2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void nonSquareLatentThatIsNotAMultipleOfEight(String model) {
        UNet unet = unet(model);
        Map<String, float[]> g = golden(model);
        float[] out = new float[4 * 8 * 12];
        unet.forward(g.get("nonsquare.sample"), 1, 8, 12, g.get("nonsquare.timesteps_int64"),
                g.get("nonsquare.encoder_hidden_states"), contextTokens(g, 2, unet), out);
        assertClose(model + " nonsquare.out", g.get("nonsquare.out"), out, MAX_ABS, REL_L2);
    }

    /** tiny-sd2v's diffusers config gives heads per level (2, 4, 4, 4), the LDM yaml a head size of 16: the same attention. */
    @Test
    void headsPerLevelAsDiffusersWritesThem() {
        UNet unet = UNet.load(Goldens.folder("tiny-sd2v", "unet"), AttentionHeads.perLevel(2, 4, 4, 4));
        Map<String, float[]> g = golden("tiny-sd2v");
        float[] out = new float[2 * 4 * 8 * 8];
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_int64"), g.get("encoder_hidden_states"),
                contextTokens(g, 2, unet), out);
        assertClose("tiny-sd2v out, heads per level", g.get("out"), out, MAX_ABS, REL_L2);
    }

    /** The workspace is reused across calls and sizes: a call after one at another size must give the same bits. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-sd1", "tiny-sd2v"})
    void repeatedCallsAtChangingSizesGiveTheSameResult(String model) {
        UNet unet = unet(model);
        Map<String, float[]> g = golden(model);
        int tokens = contextTokens(g, 2, unet);
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
