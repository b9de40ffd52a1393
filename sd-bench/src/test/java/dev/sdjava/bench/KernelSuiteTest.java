package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.tensor.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KernelSuiteTest {
    @Test
    void reportHoldsThePeaksAndPerCaseGflopsAndFractionOfItsOwnPeak() {
        FmaPeak.Result peak = new FmaPeak.Result(16, 200, 2, 400);
        // 7.55 GFLOP of conv in 100 ms: 75.5 GFLOP/s, 0.216 of the 350 GFLOP/s measured just before it.
        KernelSuite.Row row = new KernelSuite.Row(KernelCase.CONV_320_64, "vector", 100, 350, 0.25, null);
        KernelSuite.Row failed = new KernelSuite.Row(KernelCase.LINEAR_QKV, "scalar", Double.NaN, 380, Double.NaN,
                "fork died");
        Map<String, Object> report = KernelSuite.report(peak, List.of(row, failed));

        assertEquals(400.0, ((Map<?, ?>) report.get("fma_peak")).get("gflops_all_threads"));
        List<?> results = (List<?>) report.get("results");
        Map<?, ?> conv = (Map<?, ?>) results.get(0);
        assertEquals("conv_320_64", conv.get("name"));
        assertEquals("3x3 320->320 @64x64", conv.get("shape"));
        double gflops = 2.0 * 320 * 320 * 9 * 64 * 64 / 0.1 * 1e-9;
        assertEquals(gflops, (double) conv.get("gflops"), 1e-9);
        assertEquals(350.0, conv.get("peak_gflops"));
        assertEquals(gflops / 350, (double) conv.get("fraction_of_peak"), 1e-12);
        assertEquals(0.25, conv.get("fraction_of_paired_peak"));
        Map<?, ?> bad = (Map<?, ?>) results.get(1);
        assertEquals("fork died", bad.get("error"));
        // A failed case's numbers are NaN in memory and null in the JSON.
        assertTrue(Json.writeIndented(bad).contains("\"gflops\": null"));
    }

    @Test
    void pairedFractionIsTheMedianOfEachIterationOverTheRateMeasuredBesideIt() {
        // 1 GFLOP per call. Iterations of 5, 4 and 2 ms are 200, 250 and 500 GFLOP/s; beside FMA rates of 400,
        // 250 and 400 they are 0.5, 1.0 and 1.25 of the machine's speed of their moment: the median is 1.0, where
        // the median time over the best rate would say 250 / 400.
        JmhFork.Timed t = new JmhFork.Timed(4, null, List.of(5.0, 4.0, 2.0), List.of(400.0, 250.0, 400.0));
        assertEquals(1.0, t.pairedFraction(1e9), 1e-12);
        JmhFork.Timed even = new JmhFork.Timed(4, null, List.of(5.0, 2.0), List.of(400.0, 400.0));
        assertEquals((0.5 + 1.25) / 2, even.pairedFraction(1e9), 1e-12);
        assertTrue(Double.isNaN(new JmhFork.Timed(4, null, List.of(), List.of()).pairedFraction(1e9)));
    }
}
