package dev.sdjava.bench;

import java.lang.foreign.Arena;
import org.openjdk.jmh.annotations.Param;

/**
 * One JMH benchmark for every {@link BlockCase} of SD 1.5's U-Net at 512x512 with guidance: the time of one
 * block forward on the Vector API kernels. {@link BlockSuite} chooses the case and turns times into GFLOP/s.
 */
public class BlockBenchmark extends PreparedCallBenchmark {
    @Param("resnet_320_64")
    public String blockCase;

    @Override
    protected Runnable prepare(Arena arena) {
        return BlockSuite.find(blockCase).prepare(Providers.named(Providers.VECTOR), arena, BlockSuite.ARCHITECTURE,
                BlockSuite.BATCH, 42);
    }
}
