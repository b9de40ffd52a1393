package dev.sdjava.bench;

import java.lang.foreign.Arena;
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

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void call() {
        call.run();
    }
}
