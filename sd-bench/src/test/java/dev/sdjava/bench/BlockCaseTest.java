package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.Weights;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BlockCaseTest {
    private static final SdArchitecture TINY_SD1 = CheckpointLayoutTest.TINY_SD1;

    @Test
    void everyBlockCaseOfATinyUNetBuildsAndRuns() {
        // 6x6 latents take the odd-size path: 6 -> 3 -> 2 -> 1 down, upsamplers back to the skips' sizes.
        Kernels kernels = Providers.named(Providers.SCALAR); // the blocks, not the kernels, are under test: skip the SIMD warm-up
        List<BlockCase> cases = BlockCase.of(TINY_SD1, 6, 6);
        try (Arena arena = Arena.ofConfined()) {
            assertAll(cases.stream().map(c -> () -> c.prepare(kernels, arena, TINY_SD1, 2, 42).run()));
        }
    }

    @Test
    void blockNamesAndShapesAreExactlyTheGoldenUNetsTensorsUnderEachPrefix() {
        Path folder = Path.of(System.getProperty("sd.testdata"), "golden/models/tiny-sd1");
        try (Checkpoint checkpoint = Checkpoint.open(folder)) {
            Weights unet = checkpoint.unet();
            Map<String, String> outsideBlocks = shapes(unet, "");
            UNetBlock.walk(TINY_SD1, 8, 8).forEach((prefix, block) -> {
                Map<String, String> expected = shapes(unet, prefix + ".");
                Map<String, String> actual = new TreeMap<>();
                CheckpointLayout.unetBlock(TINY_SD1, block, prefix)
                        .forEach((name, shape) -> actual.put(name, Arrays.toString(shape)));
                assertEquals(expected, actual, prefix);
                outsideBlocks.keySet().removeAll(expected.keySet());
            });
            // What no block holds: the time embedding, conv_in, and the output norm and conv.
            assertEquals(List.of("conv_in", "conv_norm_out", "conv_out", "time_embedding"),
                    outsideBlocks.keySet().stream().map(n -> n.substring(0, n.indexOf('.'))).distinct().sorted().toList());
        }
    }

    @Test
    void sd15At512HasTwentyFourDistinctBlocksRunFortyFourTimesAStep() {
        Map<String, Integer> counts = BlockCase.of(SdArchitecture.SD15, 64, 64).stream()
                .collect(Collectors.toMap(BlockCase::name, BlockCase::count, (a, b) -> a, TreeMap::new));
        assertEquals(24, counts.size());
        // diffusers' UNet2DConditionModel for SD 1.5: 22 resnets, 16 transformers, 3 downsamplers, 3 upsamplers.
        assertEquals(44, counts.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(5, counts.get("transformer_320_64"));  // 2 down, 3 up
        assertEquals(1, counts.get("transformer_1280_8"));  // mid only: the deepest level has none
        assertEquals(4, counts.get("resnet_1280_8"));       // 2 down, 2 mid
        assertEquals(3, counts.get("resnet_2560_1280_8"));  // up.0: 1280 + a 1280 skip, three times
        assertEquals(1, counts.get("resnet_960_320_64"));   // up.3.0: 640 + the 320 skip of downsampler 0's input level
        assertEquals(1, counts.get("upsample_1280_8"));
        assertEquals(1, counts.get("downsample_320_64"));
    }

    @Test
    void blockFlopsTimesCountsAddUpToTheUNetLessItsStemAndHead() {
        SdArchitecture a = SdArchitecture.SD15;
        double blocks = BlockCase.of(a, 64, 64).stream().mapToDouble(c -> c.count() * c.flops(a, 2)).sum();
        int t = a.timeEmbedDim();
        double stemAndHead = 2 * (Flops.linear(1, 320, t) + Flops.linear(1, t, t) + 2 * Flops.conv(4, 320, 3, 64, 64)
                + Flops.groupNorm(320L * 64 * 64));
        assertEquals(ArchitectureFlops.unet(a, 2, 64, 64).total(), blocks + stemAndHead, 1e-9 * blocks);
    }

    private static Map<String, String> shapes(Weights w, String prefix) {
        Map<String, String> m = new TreeMap<>();
        for (String name : w.names()) {
            if (name.startsWith(prefix)) {
                m.put(name, Arrays.toString(w.get(name).shape()));
            }
        }
        return m;
    }
}
