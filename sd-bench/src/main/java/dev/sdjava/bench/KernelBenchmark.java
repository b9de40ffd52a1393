package dev.sdjava.bench;

import java.lang.foreign.Arena;
import org.openjdk.jmh.annotations.Param;

/**
 * One JMH benchmark for every {@link KernelCase} and provider: the time of one kernel call at SD 1.5's
 * shapes. {@link KernelSuite} chooses the parameters and turns times into GFLOP/s.
 */
public class KernelBenchmark extends PreparedCallBenchmark {
    @Param("LINEAR_QKV")
    public String kernelCase;

    @Param(Providers.VECTOR)
    public String provider;

    @Override
    protected Runnable prepare(Arena arena) {
        return KernelCase.valueOf(kernelCase).prepare(Providers.named(provider), arena, 42);
    }
}
