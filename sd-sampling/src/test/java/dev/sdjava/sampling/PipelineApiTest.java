package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.text.PromptSyntax;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

/** The Pipeline's contract beyond the goldens: seeds, progress, cancellation, prompts, bad requests. */
class PipelineApiTest {
    private static GenerationRequest.Builder small(String prompt) {
        return GenerationRequest.txt2img(prompt).size(64, 64).steps(4).sampler(SamplerKind.EULER_A).seed(7);
    }

    private static Pipeline sd() {
        return PipelineGoldenTest.pipeline("tiny-sd1");
    }

    @Test
    void sameSeedSameImageAndBatchImagesUseSuccessiveSeeds() {
        Result one = sd().generate(small("a red boat").build());
        Result batch = sd().generate(small("a red boat").seed(6).batchCount(2).build());
        assertArrayEquals(new long[] {6, 7}, batch.seeds());
        assertArrayEquals(one.latents().getFirst(), batch.latents().get(1));
        assertFalse(java.util.Arrays.equals(batch.latents().get(0), batch.latents().get(1)));
    }

    @Test
    void aRandomSeedIsDrawnAndRecorded() {
        Result r = sd().generate(GenerationRequest.txt2img("a red boat").steps(1).build());
        assertEquals(64, r.image().getWidth(), "the model's own size: unet/config.json sample_size 8");
        long seed = r.seeds()[0];
        assertTrue(seed >= 0 && seed < 1L << 32, "seed " + seed);
        assertEquals(seed, r.request().seed());
        assertTrue(r.infotexts().getFirst().contains("Seed: " + seed + ","), r.infotexts().getFirst());
        assertEquals(SamplerKind.PNDM, r.request().sampler(), "the folder's PNDMScheduler is the default");
    }

    @Test
    void progressIsReportedForEveryEvaluation() {
        List<Integer> steps = new ArrayList<>();
        sd().generate(small("a red boat").build(), p -> {
            steps.add(p.step());
            assertEquals(4, p.steps());
            assertEquals(8, p.preview().getWidth());
        }, new Cancellation());
        assertEquals(List.of(1, 2, 3, 4), steps);
    }

    @Test
    void cancellationStopsWithinOneStep() {
        Cancellation cancel = new Cancellation();
        List<Integer> steps = new ArrayList<>();
        assertThrows(CancellationException.class, () -> sd().generate(small("a red boat").steps(10).build(), p -> {
            steps.add(p.step());
            if (p.step() == 2) {
                cancel.cancel();
            }
        }, cancel));
        assertEquals(List.of(1, 2), steps);
        // the pipeline stays usable
        assertEquals(1, sd().generate(small("a red boat").steps(1).build()).images().size());
    }

    @Test
    void emphasisAndLongPromptsChangeTheConditioningAsA1111Does() {
        float[] literal = sd().generate(small("a (red:1.5) boat").promptSyntax(PromptSyntax.LITERAL).build()).latents().getFirst();
        float[] weighted = sd().generate(small("a (red:1.5) boat").build()).latents().getFirst();
        float[] plain = sd().generate(small("a red boat").build()).latents().getFirst();
        assertFalse(java.util.Arrays.equals(literal, weighted));
        assertFalse(java.util.Arrays.equals(plain, weighted));
        // 10,000 characters: many 75-token chunks, still one image
        String longPrompt = "a lighthouse at dusk, ".repeat(455);
        assertEquals(1, sd().generate(small(longPrompt).steps(1).build()).images().size());
        String huge = "lighthouse ".repeat(5000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd().generate(small(huge).steps(1).build()));
        assertTrue(e.getMessage().startsWith("prompt too long"), e.getMessage());
    }

    /**
     * AUTO decodes native sizes whole; ON at a size wider than one 512 px tile changes the pixels slightly but not
     * the latents (the VAE's tiling itself is checked in sd-model's VaeTilingTest).
     */
    @Test
    void vaeTilingAppliesToTheDecodeOnly() {
        assertFalse(VaeTiling.AUTO.tiles(768, 768));
        assertTrue(VaeTiling.AUTO.tiles(1024, 1024));
        assertTrue(VaeTiling.AUTO.tiles(832, 768));
        assertEquals(VaeTiling.AUTO, small("x").build().vaeTiling(), "the default");
        Result whole = sd().generate(small("a red boat").size(576, 64).steps(1).vaeTiling(VaeTiling.OFF).build());
        Result tiled = sd().generate(small("a red boat").size(576, 64).steps(1).vaeTiling(VaeTiling.ON).build());
        assertArrayEquals(whole.latents().getFirst(), tiled.latents().getFirst());
        int[] a = whole.image().getRGB(0, 0, 576, 64, null, 0, 576);
        int[] b = tiled.image().getRGB(0, 0, 576, 64, null, 0, 576);
        assertFalse(java.util.Arrays.equals(a, b), "two tiles blended differ from the whole decode");
        Result oneTile = sd().generate(small("a red boat").size(64, 64).steps(1).vaeTiling(VaeTiling.ON).build());
        Result auto = sd().generate(small("a red boat").size(64, 64).steps(1).build());
        assertArrayEquals(auto.image().getRGB(0, 0, 64, 64, null, 0, 64), oneTile.image().getRGB(0, 0, 64, 64, null, 0, 64));
        assertEquals("VAE tiling: expected auto, on or off, got \"maybe\"",
                assertThrows(IllegalArgumentException.class, () -> VaeTiling.of("maybe")).getMessage());
    }

    @Test
    void badRequestsAreRefusedWithTheParameterNamed() {
        assertMessage("width must be a multiple of 8", () -> small("x").size(100, 64).build());
        assertMessage("steps must be between 1 and 1000", () -> small("x").steps(0).build());
        assertMessage("strength must be in (0, 1]", () -> small("x").strength(1.5).build());
        assertMessage("guidance scale", () -> small("x").guidanceScale(Double.NaN).build());
        assertMessage("sampler ddim has no sigma schedule",
                () -> small("x").sampler(SamplerKind.DDIM).schedule(ScheduleKind.KARRAS).build());
        assertMessage("initial latents hold 3 values",
                () -> sd().generate(small("x").initialLatents(new float[3]).build()));
        assertNotEquals(null, small("x").build());
    }

    private static void assertMessage(String start, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
    }
}
