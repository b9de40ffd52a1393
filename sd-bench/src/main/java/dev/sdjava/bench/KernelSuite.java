package dev.sdjava.bench;

import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * {@code ./sd bench kernels [--quick] [--json FILE]}: measures the FMA peak, then every {@link KernelCase}
 * under JMH (one fork per case, so one case's JIT profile cannot slow another), on each provider worth
 * comparing, and prints GFLOP/s and the fraction of the peak beside each.
 */
final class KernelSuite {
    /** One measured case. {@code millis} is NaN when the case failed; {@code error} then says why. */
    record Row(KernelCase kase, String provider, double millis, String error) {
        double gflops() {
            return kase.flops() / (millis * 1e-3) * 1e-9;
        }

        double gbps() {
            return kase.bytes() / (millis * 1e-3) * 1e-9;
        }
    }

    private final boolean quick;
    private final java.util.regex.Pattern only;
    private final int threads;
    private final PrintStream out;

    KernelSuite(boolean quick, java.util.regex.Pattern only, int threads, PrintStream out) {
        this.quick = quick;
        this.only = only;
        this.threads = threads;
        this.out = out;
    }

    static int run(List<String> args) throws IOException {
        boolean quick = false;
        Path json = null;
        String only = ".*";
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "--quick" -> quick = true;
                case "--only" -> {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException("--only needs a regular expression over case names");
                    }
                    only = args.get(++i);
                }
                case "--json" -> {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException("--json needs a file name");
                    }
                    json = Path.of(args.get(++i));
                }
                default -> throw new IllegalArgumentException("unknown option '" + args.get(i)
                        + "' for 'bench kernels'; expected --quick, --only REGEX, --json FILE");
            }
        }
        KernelSuite suite = new KernelSuite(quick, java.util.regex.Pattern.compile(only), BenchMain.kernelThreads(),
                System.out);
        FmaPeak.Result peak = suite.measurePeak();
        List<Row> rows = suite.measureKernels(peak);
        if (json != null) {
            Files.writeString(json, Json.writeIndented(report(peak, rows)));
            System.out.println("wrote " + json);
        }
        return rows.stream().anyMatch(r -> r.error() != null) ? 1 : 0;
    }

    FmaPeak.Result measurePeak() {
        out.println("machine: " + Machine.describe());
        FmaPeak.Result peak = FmaPeak.measure(threads, quick ? 2 : 6);
        out.printf("FP32 FMA peak (%d-lane vectors): %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads%n",
                peak.lanes(), peak.gflops1(), peak.gflopsN(), peak.threads());
        if (peak.threads() > 1 && peak.gflopsN() < 1.5 * peak.gflops1()) {
            out.println("note: the threads did not scale; the machine is probably busy, so every fraction of peak"
                    + " below is taken of a low peak and comes out high");
        }
        return peak;
    }

    List<Row> measureKernels(FmaPeak.Result peak) {
        out.printf("%-16s %-9s %-30s %10s %10s %8s %8s%n", "case", "provider", "shape", "ms/call", "GFLOP/s",
                "of peak", "GB/s");
        List<Row> rows = new ArrayList<>();
        for (String provider : Providers.compared()) {
            for (KernelCase c : KernelCase.values()) {
                if (provider.equals(Providers.SCALAR) && !c.scalarCheap()
                        || !only.matcher(c.name().toLowerCase()).matches()) {
                    continue;
                }
                Row row = measure(c, provider);
                rows.add(row);
                if (row.error() != null) {
                    out.printf("%-16s %-9s %-30s failed: %s%n", c.name().toLowerCase(), provider, c.shape(), row.error());
                } else {
                    out.printf("%-16s %-9s %-30s %10.3f %10.1f %8.3f %8.1f%n", c.name().toLowerCase(), provider,
                            c.shape(), row.millis(), row.gflops(), row.gflops() / peak.peak(), row.gbps());
                }
            }
        }
        printSpeedups(rows);
        return rows;
    }

    private Row measure(KernelCase c, String provider) {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(KernelBenchmark.class.getName() + ".call$")
                .param("kernelCase", c.name())
                .param("provider", provider)
                .forks(1)
                // The Vector API is a thousand times slower until C2 has compiled it, which can take a few
                // seconds of calls: warm up well and report the median iteration, not the mean.
                .warmupIterations(quick ? 3 : 5)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(quick ? 3 : 5)
                .measurementTime(TimeValue.seconds(quick ? 1 : 2))
                .verbosity(System.getenv("SD_BENCH_VERBOSE") != null ? VerboseMode.NORMAL : VerboseMode.SILENT)
                // Forks inherit this JVM's flags (the Vector API among them: KernelBenchmark checks) and class path.
                .jvmArgsAppend("-Xmx4g", "-Dsd.threads=" + threads);
        try {
            Collection<RunResult> results = new Runner(options.build()).run();
            if (results.isEmpty()) {
                return new Row(c, provider, Double.NaN, "the benchmark fork failed (run with SD_BENCH_VERBOSE=1)");
            }
            return new Row(c, provider, results.iterator().next().getPrimaryResult().getStatistics().getPercentile(50), null);
        } catch (RunnerException e) {
            return new Row(c, provider, Double.NaN, String.valueOf(e.getMessage()));
        }
    }

    private void printSpeedups(List<Row> rows) {
        for (Row s : rows) {
            if (!s.provider().equals(Providers.SCALAR) || s.error() != null) {
                continue;
            }
            for (Row v : rows) {
                if (v.kase() == s.kase() && !v.provider().equals(Providers.SCALAR) && v.error() == null) {
                    out.printf("speed-up %s over scalar, %s: %.1fx%n", v.provider(), s.kase().name().toLowerCase(),
                            s.millis() / v.millis());
                }
            }
        }
    }

    static Map<String, Object> report(FmaPeak.Result peak, List<Row> rows) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("date", Instant.now().toString());
        root.put("threads", peak.threads());
        root.put("load_average_at_end", Machine.loadAverage());
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("vector_lanes", peak.lanes());
        p.put("gflops_1_thread", peak.gflops1());
        p.put("gflops_all_threads", peak.gflopsN());
        p.put("threads", peak.threads());
        root.put("fma_peak", p);
        List<Object> results = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.kase().name().toLowerCase());
            m.put("provider", r.provider());
            m.put("kind", r.kase().kind());
            m.put("shape", r.kase().shape());
            m.put("ms", r.millis());
            m.put("gflops", r.gflops());
            m.put("fraction_of_peak", r.gflops() / peak.peak());
            m.put("gbps", r.gbps());
            m.put("memory_bound", r.kase().memoryBound());
            if (r.error() != null) {
                m.put("error", r.error());
            }
            results.add(m);
        }
        root.put("results", results);
        return root;
    }
}
