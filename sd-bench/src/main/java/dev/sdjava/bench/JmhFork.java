package dev.sdjava.bench;

import java.util.Collection;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/** Runs one JMH benchmark method in a fork of its own, so one case's JIT profile cannot slow another. */
final class JmhFork {
    /** The median milliseconds per call, or NaN with the reason the fork failed. */
    record Timed(double millis, String error) {
    }

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

    /** {@code benchmark}'s method {@code call} with the given {@code @Param} values. */
    static Timed median(Class<?> benchmark, Map<String, String> params, Plan plan, int threads) {
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
                // Forks inherit this JVM's flags (the Vector API among them: the benchmarks check) and class path;
                // JMH itself calls sun.misc.Unsafe, which JDK 25 warns about in every fork unless allowed.
                .jvmArgsAppend("-Xmx4g", "-Dsd.threads=" + threads, "--sun-misc-unsafe-memory-access=allow");
        params.forEach(options::param);
        try {
            Collection<RunResult> results = new Runner(options.build()).run();
            if (results.isEmpty()) {
                return new Timed(Double.NaN, "the benchmark fork failed (run with SD_BENCH_VERBOSE=1)");
            }
            return new Timed(results.iterator().next().getPrimaryResult().getStatistics().getPercentile(50), null);
        } catch (RunnerException e) {
            return new Timed(Double.NaN, String.valueOf(e.getMessage()));
        }
    }
}
