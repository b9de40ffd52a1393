package dev.sdjava.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A JMH benchmark of one prepared call: each subclass turns its {@code @Param}s into the call, whose inputs and
 * weights live in an arena for the trial; the benchmark is the time of one call ({@link KernelBenchmark},
 * {@link BlockBenchmark}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public abstract class PreparedCallBenchmark {
    private Arena arena;
    private Runnable call;

    /** The call to time, its inputs and weights allocated in {@code arena}. */
    protected abstract Runnable prepare(Arena arena);

    @Setup(Level.Trial)
    public void setUp() {
        JmhFork.requireVectorApi();
        arena = Arena.ofShared();
        call = prepare(arena);
    }

    /**
     * When the suite asks ({@link JmhFork#PAIRED_PEAKS}), the FMA rate over a quarter of a second before each
     * iteration, appended to the file it names: each iteration's rate can then be divided by the machine's speed
     * of that moment. Set-up time is not part of an iteration's measurement.
     */
    @Setup(Level.Iteration)
    public void measurePairedPeak() throws IOException {
        String file = System.getProperty(JmhFork.PAIRED_PEAKS);
        if (file != null) {
            double gflops = FmaPeak.meanNow(BenchMain.kernelThreads(), 0.25);
            Files.writeString(Path.of(file), gflops + "\n", StandardOpenOption.APPEND);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void call() {
        call.run();
    }
}
