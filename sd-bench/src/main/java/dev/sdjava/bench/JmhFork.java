package dev.sdjava.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** Runs one JMH benchmark method in a fork of its own, so one case's JIT profile cannot slow another. */
final class JmhFork {
    /**
     * The median milliseconds per call, or NaN with the reason the fork failed. When peaks were paired ({@link
     * #median}), {@code iterations} holds each measured iteration's mean milliseconds per call and {@code peaks}
     * the FMA rate (GFLOP/s) measured just before it; otherwise both are empty.
     */
    record Timed(double millis, String error, List<Double> iterations, List<Double> peaks) {
        /**
         * The median over the measured iterations of the call's GFLOP/s divided by the FMA rate measured just
         * before that iteration, both means over their window; NaN without paired peaks. A drift of the machine's
         * speed slower than an iteration cancels in each ratio (faster jitter does not: the README has both).
         */
        double pairedFraction(double flops) {
            if (peaks.isEmpty()) {
                return Double.NaN;
            }
            double[] f = new double[peaks.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = flops / (iterations.get(i) * 1e-3) * 1e-9 / peaks.get(i);
            }
            Arrays.sort(f);
            return f.length % 2 == 1 ? f[f.length / 2] : (f[f.length / 2 - 1] + f[f.length / 2]) / 2;
        }
    }

    /** System property naming the file a fork appends, before each iteration, the FMA rate measured then. */
    static final String PAIRED_PEAKS = "sd.bench.pairedPeaks";

    /** Warm-up iterations of a second each, then measured iterations of {@code seconds} each. */
    record Plan(int warmups, int iterations, int seconds) {
    }

    private JmhFork() {
    }

    /** Called in a benchmark's set-up: a fork without the Vector API would silently measure the scalar fallback. */
    static void requireVectorApi() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new IllegalStateException("the benchmark fork runs without --add-modules jdk.incubator.vector");
        }
    }

    /**
     * {@code benchmark}'s method {@code call} with the given {@code @Param} values; with {@code pairPeaks}, the
     * fork also measures the FMA rate before each iteration ({@link PreparedCallBenchmark#measurePairedPeak}).
     */
    static Timed median(Class<?> benchmark, Map<String, String> params, Plan plan, int threads, boolean pairPeaks) {
        Path peakFile = pairPeaks ? temporaryFile() : null;
        // Forks inherit this JVM's flags (the Vector API among them: the benchmarks check) and class path;
        // JMH itself calls sun.misc.Unsafe, which JDK 25 warns about in every fork unless allowed.
        List<String> jvmArgs = new ArrayList<>(List.of("-Xmx4g", "-Dsd.threads=" + threads,
                "--sun-misc-unsafe-memory-access=allow"));
        if (peakFile != null) {
            jvmArgs.add("-D" + PAIRED_PEAKS + "=" + peakFile);
        }
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(benchmark.getName() + ".call$")
                .forks(1)
                // The Vector API is a thousand times slower until C2 has compiled it: warm up, and report the
                // median iteration, not the mean.
                .warmupIterations(plan.warmups())
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(plan.iterations())
                .measurementTime(TimeValue.seconds(plan.seconds()))
                .verbosity(System.getenv("SD_BENCH_VERBOSE") != null ? VerboseMode.NORMAL : VerboseMode.SILENT)
                .jvmArgsAppend(jvmArgs.toArray(String[]::new));
        params.forEach(options::param);
        try {
            Collection<RunResult> results = new Runner(options.build()).run();
            if (results.isEmpty()) {
                return failed("the benchmark fork failed (run with SD_BENCH_VERBOSE=1)");
            }
            RunResult run = results.iterator().next();
            double median = run.getPrimaryResult().getStatistics().getPercentile(50);
            if (peakFile == null) {
                return new Timed(median, null, List.of(), List.of());
            }
            List<Double> iterations = run.getBenchmarkResults().stream().map(BenchmarkResult::getIterationResults)
                    .flatMap(Collection::stream).map(IterationResult::getPrimaryResult).map(Result::getScore).toList();
            // One line per iteration, warm-ups first: the last ones belong to the measured iterations.
            List<Double> lines = Files.readAllLines(peakFile).stream().map(Double::parseDouble).toList();
            if (lines.size() < iterations.size()) {
                return failed("the fork wrote " + lines.size() + " paired peaks for " + iterations.size() + " iterations");
            }
            return new Timed(median, null, iterations, lines.subList(lines.size() - iterations.size(), lines.size()));
        } catch (RunnerException e) {
            return failed(String.valueOf(e.getMessage()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (peakFile != null) {
                peakFile.toFile().delete();
            }
        }
    }

    private static Timed failed(String why) {
        return new Timed(Double.NaN, why, List.of(), List.of());
    }

    private static Path temporaryFile() {
        try {
            return Files.createTempFile("sd-bench-peaks", ".txt");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
