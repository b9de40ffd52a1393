package dev.sdjava.bench;

import dev.sdjava.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One JMH benchmark for every {@link BlockCase} of SD 1.5's U-Net at 512x512 with guidance: the time of one
 * block forward on the Vector API kernels. {@link BlockSuite} chooses the case and turns times into GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class BlockBenchmark {
    @Param("resnet_320_64")
    public String blockCase;

    private Arena arena;
    private Runnable call;

    @Setup(Level.Trial)
    public void setUp() {
        JmhFork.requireVectorApi();
        Kernels kernels = Providers.named(Providers.VECTOR);
        arena = Arena.ofShared();
        call = BlockSuite.find(blockCase).prepare(kernels, arena, BlockSuite.ARCHITECTURE, BlockSuite.BATCH, 42);
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
