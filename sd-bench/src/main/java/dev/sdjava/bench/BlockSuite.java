package dev.sdjava.bench;

import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ./sd bench blocks [--quick] [--only REGEX] [--json FILE]}: measures the FMA peak, then every distinct
 * block of SD 1.5's U-Net at 512x512 with guidance (batch 2 of 64x64 latents, 77 text tokens) under JMH, one fork
 * per block, and prints per block its time, GFLOP/s, fraction of the peak, and its share of a U-Net step (the
 * block's time times how often a step runs it), so a slow step can be traced to its block.
 */
final class BlockSuite {
    static final SdArchitecture ARCHITECTURE = SdArchitecture.SD15;
    static final int LATENT = 64;
    static final int BATCH = 2;

    /** One measured block. {@code millis} is NaN when the case failed; {@code error} then says why. */
    record Row(BlockCase kase, double flops, double millis, String error) {
        double gflops() {
            return flops / (millis * 1e-3) * 1e-9;
        }

        /** What this block costs one U-Net step. */
        double millisPerStep() {
            return millis * kase.count();
        }
    }

    private BlockSuite() {
    }

    /** The distinct blocks of the benchmarked U-Net pass, in the order they first run. */
    static List<BlockCase> cases() {
        return BlockCase.of(ARCHITECTURE, LATENT, LATENT);
    }

    static BlockCase find(String name) {
        return cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no U-Net block case '" + name + "'; expected one of "
                        + cases().stream().map(BlockCase::name).toList()));
    }

    static int run(List<String> args) throws IOException {
        SuiteOptions options = SuiteOptions.parse(args, "blocks");
        int threads = BenchMain.kernelThreads();
        PrintStream out = System.out;
        FmaPeak.Result peak = KernelSuite.measurePeak(options.quick(), threads, out);
        out.printf("SD 1.5 U-Net blocks at %dx%d, batch %d, %d text tokens; x: runs per U-Net step%n",
                8 * LATENT, 8 * LATENT, BATCH, ARCHITECTURE.tokens());
        out.printf("%-24s %-26s %2s %10s %10s %10s %8s%n", "case", "shape", "x", "ms/call", "ms/step", "GFLOP/s",
                "of peak");
        // A block call takes 0.1 to 3 s of kernels the provider warmed up at start: fewer, shorter iterations
        // than single kernels need (a full run is still about 25 s per block on a busy 2-core machine).
        JmhFork.Plan plan = options.quick() ? new JmhFork.Plan(2, 3, 1) : new JmhFork.Plan(3, 5, 1);
        List<Row> rows = new ArrayList<>();
        for (BlockCase c : cases()) {
            if (!options.selects(c.name())) {
                continue;
            }
            JmhFork.Timed t = JmhFork.median(BlockBenchmark.class, Map.of("blockCase", c.name()), plan, threads, false);
            Row row = new Row(c, c.flops(ARCHITECTURE, BATCH), t.millis(), t.error());
            rows.add(row);
            if (row.error() != null) {
                out.printf("%-24s %-26s %2d failed: %s%n", c.name(), c.block().shape(), c.count(), row.error());
            } else {
                out.printf("%-24s %-26s %2d %10.2f %10.2f %10.1f %8.3f%n", c.name(), c.block().shape(), c.count(),
                        row.millis(), row.millisPerStep(), row.gflops(), row.gflops() / peak.peak());
            }
        }
        printSummary(rows, out);
        if (options.json() != null) {
            Files.writeString(options.json(), Json.writeIndented(report(peak, rows)));
            out.println("wrote " + options.json());
        }
        return rows.stream().anyMatch(r -> r.error() != null) ? 1 : 0;
    }

    private static void printSummary(List<Row> rows, PrintStream out) {
        List<Row> ok = rows.stream().filter(r -> r.error() == null).toList();
        if (ok.isEmpty()) {
            return;
        }
        double millis = ok.stream().mapToDouble(Row::millisPerStep).sum();
        double flops = ok.stream().mapToDouble(r -> r.flops() * r.kase().count()).sum();
        out.printf("%d of %d blocks per step measured: %.0f ms per U-Net step in them, %.1f GFLOP/s%n",
                ok.stream().mapToInt(r -> r.kase().count()).sum(),
                cases().stream().mapToInt(BlockCase::count).sum(), millis, flops / (millis * 1e-3) * 1e-9);
        out.print("largest shares of that time:");
        ok.stream().sorted(Comparator.comparingDouble(Row::millisPerStep).reversed()).limit(5).forEach(r ->
                out.printf(" %s %.0f%%", r.kase().name(), 100 * r.millisPerStep() / millis));
        out.println();
    }

    static Map<String, Object> report(FmaPeak.Result peak, List<Row> rows) {
        Map<String, Object> root = KernelSuite.header(peak);
        root.put("architecture", ARCHITECTURE.toString());
        root.put("image", 8 * LATENT);
        root.put("batch", BATCH);
        double stepMillis = rows.stream().filter(r -> r.error() == null).mapToDouble(Row::millisPerStep).sum();
        List<Object> results = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.kase().name());
            m.put("kind", r.kase().block().kind().name().toLowerCase());
            m.put("shape", r.kase().block().shape());
            m.put("places", r.kase().places());
            m.put("per_step", r.kase().count());
            m.put("gflop", r.flops() * 1e-9);
            m.put("ms", r.millis());
            m.put("ms_per_step", r.millisPerStep());
            m.put("share_of_measured_step", r.millisPerStep() / stepMillis);
            m.put("gflops", r.gflops());
            m.put("fraction_of_peak", r.gflops() / peak.peak());
            if (r.error() != null) {
                m.put("error", r.error());
            }
            results.add(m);
        }
        root.put("results", results);
        root.put("measured_ms_per_step", stepMillis);
        return root;
    }
}
