package dev.sdjava.bench;

import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code ./sd bench kernels [--quick] [--json FILE]}: measures the FMA peak, then every {@link KernelCase}
 * under JMH (one fork per case, so one case's JIT profile cannot slow another), on each provider worth
 * comparing (with {@code --quick} the vector one only, in about a minute and a half), and prints GFLOP/s and the
 * fraction of the peak beside each. That fraction divides by the peak
 * measured again just before the case: the machine's speed drifts within the minutes a suite takes, and a
 * ratio of two measurements taken together is the only figure it lets us compare. A second fraction ("paired")
 * divides each JMH iteration's rate by the FMA throughput measured just before it, in the fork, and takes the
 * median of those ratios: the same statistic on both sides (means over a window, threads free-running as the
 * kernels' pool runs them), where the first divides a median of means by a best-of peak of lock-step runs.
 */
final class KernelSuite {
    /**
     * One measured case, the N-thread FMA peak measured just before it, and the median ratio of each iteration
     * to the FMA rate beside it ({@link JmhFork.Timed#pairedFraction}). {@code millis} is NaN when the case
     * failed; {@code error} then says why.
     */
    record Row(KernelCase kase, String provider, double millis, double peak, double pairedFraction, String error) {
        double gflops() {
            return kase.flops() / (millis * 1e-3) * 1e-9;
        }

        double fractionOfPeak() {
            return gflops() / peak;
        }

        double gbps() {
            return kase.bytes() / (millis * 1e-3) * 1e-9;
        }
    }

    private final boolean quick;
    private final Pattern only;
    private final int threads;
    private final PrintStream out;

    KernelSuite(boolean quick, Pattern only, int threads, PrintStream out) {
        this.quick = quick;
        this.only = only;
        this.threads = threads;
        this.out = out;
    }

    static int run(List<String> args) throws IOException {
        SuiteOptions options = SuiteOptions.parse(args, "kernels");
        int threads = BenchMain.kernelThreads();
        KernelSuite suite = new KernelSuite(options.quick(), options.only(), threads, System.out);
        FmaPeak.Result peak = measurePeak(options.quick(), threads, System.out);
        List<Row> rows = suite.measureKernels();
        if (options.json() != null) {
            Files.writeString(options.json(), Json.writeIndented(report(peak, rows)));
            System.out.println("wrote " + options.json());
        }
        return rows.stream().anyMatch(r -> r.error() != null) ? 1 : 0;
    }

    /** Prints the machine and measures its FMA peak on {@code threads} threads, which every fraction of peak divides by. */
    static FmaPeak.Result measurePeak(boolean quick, int threads, PrintStream out) {
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

    List<Row> measureKernels() {
        out.printf("%-16s %-9s %-30s %10s %10s %8s %8s %8s %8s%n", "case", "provider", "shape", "ms/call", "GFLOP/s",
                "peak", "of peak", "paired", "GB/s");
        List<Row> rows = new ArrayList<>();
        for (String provider : quick ? new String[] {Providers.VECTOR} : Providers.compared()) {
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
                    out.printf("%-16s %-9s %-30s %10.3f %10.1f %8.1f %8.3f %8.3f %8.1f%n", c.name().toLowerCase(),
                            provider, c.shape(), row.millis(), row.gflops(), row.peak(), row.fractionOfPeak(),
                            row.pairedFraction(), row.gbps());
                    if (row.pairedFraction() < 0.75 * row.fractionOfPeak()) {
                        out.printf("  note: the peak beside %s is low (a core was taken away while it was measured);"
                                + " read its paired fraction%n", c.name().toLowerCase());
                    }
                }
            }
        }
        printSpeedups(rows);
        return rows;
    }

    private Row measure(KernelCase c, String provider) {
        double peak = FmaPeak.measureNow(threads, quick ? 0.5 : 1);
        // C2 can take a few seconds of calls to compile a kernel: warm up well.
        // Quick: a first call can outlast a 1 s iteration while C2 compiles it (1.1-1.6 s for the F(4x4) convolution
        // and self-attention), so one warm-up iteration left the first measured one 34% slow; two do not.
        JmhFork.Plan plan = quick ? new JmhFork.Plan(2, 2, 1) : new JmhFork.Plan(5, 5, 2);
        JmhFork.Timed t = JmhFork.median(KernelBenchmark.class, Map.of("kernelCase", c.name(), "provider", provider),
                plan, threads, true);
        return new Row(c, provider, t.millis(), peak, t.pairedFraction(c.flops()), t.error());
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
        Map<String, Object> root = header(peak);
        List<Object> results = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.kase().name().toLowerCase());
            m.put("provider", r.provider());
            m.put("kind", r.kase().kind());
            m.put("shape", r.kase().shape());
            m.put("ms", r.millis());
            m.put("gflops", r.gflops());
            m.put("peak_gflops", r.peak());
            m.put("fraction_of_peak", r.fractionOfPeak());
            m.put("fraction_of_paired_peak", r.pairedFraction());
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

    /** What every suite's JSON report starts with: when, on how many threads, how busy, and the measured peak. */
    static Map<String, Object> header(FmaPeak.Result peak) {
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
        return root;
    }
}
