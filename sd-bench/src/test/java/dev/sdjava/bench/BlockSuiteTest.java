package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BlockSuiteTest {
    @Test
    void reportHoldsPerBlockGflopsFractionOfPeakAndShareOfTheStep() {
        FmaPeak.Result peak = new FmaPeak.Result(16, 200, 2, 400);
        BlockCase transformer = BlockSuite.find("transformer_320_64");
        BlockCase upsample = BlockSuite.find("upsample_640_32");
        BlockSuite.Row t = new BlockSuite.Row(transformer, 50e9, 250, null);
        BlockSuite.Row u = new BlockSuite.Row(upsample, 20e9, 100, null);
        Map<String, Object> report = BlockSuite.report(peak, List.of(t, u));

        // 5 transformers at 250 ms and one upsampler at 100 ms: 1350 ms of the step.
        assertEquals(1350.0, (double) report.get("measured_ms_per_step"), 1e-9);
        Map<?, ?> first = (Map<?, ?>) ((List<?>) report.get("results")).get(0);
        assertEquals("transformer_320_64", first.get("name"));
        assertEquals("320 @64x64", first.get("shape"));
        assertEquals(5, first.get("per_step"));
        assertEquals(1250.0, (double) first.get("ms_per_step"), 1e-9);
        assertEquals(1250.0 / 1350, (double) first.get("share_of_measured_step"), 1e-12);
        assertEquals(200.0, (double) first.get("gflops"), 1e-9);
        assertEquals(0.5, (double) first.get("fraction_of_peak"), 1e-12);
        Map<?, ?> second = (Map<?, ?>) ((List<?>) report.get("results")).get(1);
        assertEquals("640 @32x32->64x64", second.get("shape"));
        assertTrue(((List<?>) second.get("places")).contains("up_blocks.2.upsamplers.0"));
    }

    @Test
    void anUnknownCaseNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BlockSuite.find("resnet_7"));
        assertTrue(e.getMessage().contains("resnet_320_64"), e.getMessage());
    }
}
