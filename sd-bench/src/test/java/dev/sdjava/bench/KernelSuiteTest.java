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
        KernelSuite.Row row = new KernelSuite.Row(KernelCase.CONV_320_64, "vector", 100, 350, null);
        KernelSuite.Row failed = new KernelSuite.Row(KernelCase.LINEAR_QKV, "scalar", Double.NaN, 380, "fork died");
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
        Map<?, ?> bad = (Map<?, ?>) results.get(1);
        assertEquals("fork died", bad.get("error"));
        // A failed case's numbers are NaN in memory and null in the JSON.
        assertTrue(Json.writeIndented(bad).contains("\"gflops\": null"));
    }
}
