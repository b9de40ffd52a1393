package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.AttentionHeads;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.UNetConfig;
import dev.sdjava.model.Weights;
import dev.sdjava.model.diffusion.Goldens.Source;
import dev.sdjava.tensor.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
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

    /**
     * The workspace is reused across calls and sizes: a call after one at another size must give the same bits, and
     * so must one after {@link UNet#releaseBuffers()}.
     */
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
        unet.releaseBuffers();
        unet.forward(g.get("sample"), 2, 8, 8, g.get("timesteps_fractional"), g.get("encoder_hidden_states"), tokens, again);
        assertArrayEquals(first, again, "after releaseBuffers");
    }

    /**
     * Any latent size runs (5x7 goes 5→3→2→1 and back up through sizes that are not doubles), and a batch of two
     * is two independent evaluations: each element gets its own timestep and text.
     */
    @Test
    void oddLatentSizeBatchOfTwoEqualsTwoSingleCalls() {
        UNet unet = unet(Source.SD1_FOLDER);
        int plane = 4 * 5 * 7;
        int contextSize = 77 * unet.config().crossAttentionDim();
        Random random = new Random(42);
        float[] sample = Goldens.gaussian(random, 2 * plane);
        float[] context = Goldens.gaussian(random, 2 * contextSize);
        float[] timesteps = {981.5f, 3};
        float[] both = new float[2 * plane];
        unet.forward(sample, 2, 5, 7, timesteps, context, 77, both);
        for (int b = 0; b < 2; b++) {
            float[] one = new float[plane];
            unet.forward(Arrays.copyOfRange(sample, b * plane, (b + 1) * plane), 1, 5, 7, new float[] {timesteps[b]},
                    Arrays.copyOfRange(context, b * contextSize, (b + 1) * contextSize), 77, one);
            Goldens.assertClose("batch element " + b, one, Arrays.copyOfRange(both, b * plane, (b + 1) * plane),
                    Goldens.MAX_ABS, Goldens.REL_L2);
        }
    }

    @Test
    void badInputIsNamed() {
        UNet unet = unet(Source.SD1_FOLDER);
        float[] sample = new float[4 * 8 * 8];
        float[] out = new float[4 * 8 * 8];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> unet.forward(sample, 1, 8, 8, new float[] {1}, new float[10], 77, out));
        assertTrue(e.getMessage().contains("context"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> unet.forward(sample, 2, 8, 8, new float[] {1}, new float[2 * 77 * 32], 77, new float[2 * 4 * 8 * 8]));
        assertTrue(e.getMessage().contains("sample"), e.getMessage());

        Checkpoint checkpoint = Source.SD1_FOLDER.checkpoint();
        UNetConfig c = checkpoint.config().unet();
        UNetConfig wrongContext = new UNetConfig(c.inChannels(), c.outChannels(), c.blockWidths(), c.layersPerBlock(),
                c.attention(), c.transformerDepth(), 48, c.linearProjection(), c.timeEmbedDim());
        e = assertThrows(IllegalArgumentException.class,
                () -> UNet.load(checkpoint.unet(), wrongContext, AttentionHeads.perLevel(2), Kernels.get()));
        assertTrue(e.getMessage().contains("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight")
                && e.getMessage().contains("[32, 48]"), e.getMessage());

        // GEGLU's projection, split into its value and gate halves at load, a row short.
        String proj = "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight";
        Weights weights = checkpoint.unet();
        Map<String, Tensor> tensors = new HashMap<>();
        for (String name : weights.names()) {
            Tensor t = weights.get(name);
            tensors.put(name, name.equals(proj) ? t.slice(0, t.dim(0) - 1) : t);
        }
        Weights shortProj = Weights.of(tensors, "tiny-sd1 with a short projection");
        e = assertThrows(IllegalArgumentException.class, () -> UNet.load(shortProj, c, AttentionHeads.perLevel(2), Kernels.get()));
        assertTrue(e.getMessage().contains(proj) && e.getMessage().contains("[255, 32]"), e.getMessage());
    }
}
