package dev.sdjava.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * This machine's FP32 fused-multiply-add peak, measured rather than looked up: a tight loop of FMAs
 * into twelve independent vector accumulators (enough to cover the FMA latency on every x86 and ARM
 * core we know), on 1 thread and on N threads at once. Every "fraction of peak" the benchmarks print
 * divides by the N-thread number, N being the threads the kernels use.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int ACCUMULATORS = 12;
    private static final int ITERATIONS = 5_000_000;
    /** Iterations of one piece of {@link #meanNow}: about 0.1 ms, so that a window overruns by no more. */
    private static final int PIECE = 50_000;

    /** GFLOP/s of FP32 FMA (2 FLOP per lane) on 1 thread and on {@code threads} threads. */
    public record Result(int lanes, double gflops1, int threads, double gflopsN) {
        /** The peak every fraction is taken of: all threads the kernels use. */
        public double peak() {
            return gflopsN;
        }
    }

    private FmaPeak() {
    }

    /** Measures for about {@code seconds} after a warm-up. */
    public static Result measure(int threads, double seconds) {
        warmUp();
        double one = best(1, seconds * 0.45);
        double many = threads == 1 ? one : best(threads, seconds * 0.55);
        return new Result(S.length(), one, threads, many);
    }

    /**
     * The peak on {@code threads} threads alone, for about {@code seconds}: short enough to take again beside each
     * measurement, since this shared machine's speed drifts by 10-30% within minutes.
     */
    public static double measureNow(int threads, double seconds) {
        warmUp();
        return best(threads, seconds);
    }

    /**
     * The FMA throughput of {@code threads} threads over a window of about {@code seconds}: each thread runs the
     * loop in short pieces until the window closes, and all their FLOPs are divided by the window. A mean, the
     * statistic a JMH iteration gives a kernel, and with no thread waiting for another, as the kernels' pool
     * does not: on this shared machine a core is now and then taken away for milliseconds, which a best-of
     * peak of lock-step runs never sees. The suite pairs one with each iteration ({@link
     * PreparedCallBenchmark#measurePairedPeak}).
     */
    public static double meanNow(int threads, double seconds) {
        warmUp();
        long start = System.nanoTime(), deadline = start + (long) (seconds * 1e9);
        long[] pieces = new long[threads];
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int slot = t;
            running.add(Thread.ofPlatform().start(() -> {
                do {
                    sink(fmaLoop(PIECE, 1f));
                    pieces[slot]++;
                } while (System.nanoTime() < deadline);
            }));
        }
        join(running);
        double elapsed = (System.nanoTime() - start) * 1e-9;
        return flops(PIECE) * Arrays.stream(pieces).sum() / elapsed * 1e-9;
    }

    private static void warmUp() {
        // Many short calls, counted rather than timed: on a busy machine a timed warm-up can end before C2
        // has compiled the loop, and an interpreted Vector API loop is a thousand times slower.
        for (int i = 0; i < 30_000; i++) {
            sink(fmaLoop(200, 1f));
        }
    }

    /** Best GFLOP/s of repeated runs of the loop on {@code threads} threads started together. */
    private static double best(int threads, double seconds) {
        double best = 0;
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        do {
            long start = System.nanoTime();
            runTogether(threads);
            double s = (System.nanoTime() - start) * 1e-9;
            best = Math.max(best, flops(ITERATIONS) * threads / s * 1e-9);
        } while (System.nanoTime() < deadline);
        return best;
    }

    /** One run of the loop on each of {@code threads} threads started together; returns when all are done. */
    private static void runTogether(int threads) {
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            running.add(Thread.ofPlatform().start(() -> sink(fmaLoop(ITERATIONS, 1f))));
        }
        join(running);
    }

    private static void join(List<Thread> running) {
        for (Thread t : running) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the FMA peak", e);
            }
        }
    }

    static double flops(long iterations) {
        return 2.0 * S.length() * ACCUMULATORS * iterations;
    }

    /**
     * {@code ACCUMULATORS} independent chains {@code acc = a·b + acc}, the kernels' own form; locals so they stay
     * in registers. With the chain as a factor instead ({@code acc = acc·a + b}) C2 reaches the same rate with
     * AVX-512 but 15% less with AVX2 (92 against 108 GFLOP/s on one thread here under -XX:UseAVX=2), below what
     * the micro-kernel itself runs at there.
     */
    static float fmaLoop(int iterations, float seed) {
        FloatVector a = FloatVector.broadcast(S, 0.999999f);
        FloatVector b = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, seed), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3);
        FloatVector c4 = c0.add(4), c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7);
        FloatVector c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        for (int i = 0; i < iterations; i++) {
            c0 = a.fma(b, c0);
            c1 = a.fma(b, c1);
            c2 = a.fma(b, c2);
            c3 = a.fma(b, c3);
            c4 = a.fma(b, c4);
            c5 = a.fma(b, c5);
            c6 = a.fma(b, c6);
            c7 = a.fma(b, c7);
            c8 = a.fma(b, c8);
            c9 = a.fma(b, c9);
            c10 = a.fma(b, c10);
            c11 = a.fma(b, c11);
        }
        FloatVector sum = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11);
        return sum.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static volatile float sink;

    /** Keeps the JIT from deleting a loop whose result is unused. */
    private static void sink(float v) {
        sink = v;
    }
}
