package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.Random;

/**
 * A throwaway throughput probe (not a test, not JMH): GFLOP/s of the dense kernels at Stable Diffusion 1.5
 * shapes. Run: java --add-modules jdk.incubator.vector -cp ... dev.sdjava.kernels.KernelBench [filter]
 */
public final class KernelBench {
    public static void main(String[] args) {
        Kernels k = args.length > 1 && args[1].equals("scalar") ? new ScalarKernels() : new VectorKernels();
        String only = args.length > 0 ? args[0] : "";
        Random rnd = new Random(1);
        System.out.println(k.name() + ", threads " + Parallel.threads());
        if (args.length > 2 && args[2].equals("warm")) {
            long t = System.nanoTime();
            k.warmUp();
            System.out.printf("warmUp %.0f ms%n", (System.nanoTime() - t) / 1e6);
        }
        try (Arena arena = Arena.ofConfined()) {
            if ("micro".contains(only)) {
                // The micro-kernel alone, all operands in L1: the ceiling for everything built on it.
                for (int kc : new int[]{128, 256, 512}) {
                    float[] a = Naive.random(rnd, 6 * kc), b = Naive.random(rnd, kc * Gemm.NR), c = new float[6 * Gemm.NR];
                    int reps = 20000 * 128 / kc;
                    report("micro 6x" + Gemm.NR + " kc=" + kc, 2.0 * 6 * Gemm.NR * kc * reps, () -> {
                        for (int i = 0; i < reps; i++) {
                            Gemm.micro(a, 0, kc, 2 * kc, 3 * kc, 4 * kc, 5 * kc, b, 0, kc, c, 0, Gemm.NR);
                        }
                    });
                }
            }
            if ("exp".contains(only)) {
                // "GFLOP/s" = G exp/s here.
                float[] x = Naive.random(rnd, 4096), y = new float[4096];
                report("VMath.expNonPositive x4096 x1000", 4096.0 * 1000, () -> {
                    for (int r = 0; r < 1000; r++) {
                        for (int i = 0; i < 4096; i += Gemm.L) {
                            VMath.expNonPositive(jdk.incubator.vector.FloatVector.fromArray(Gemm.F, x, i).neg().abs().neg()).intoArray(y, i);
                        }
                    }
                });
                report("lanewise(EXP) x4096 x1000", 4096.0 * 1000, () -> {
                    for (int r = 0; r < 1000; r++) {
                        for (int i = 0; i < 4096; i += Gemm.L) {
                            jdk.incubator.vector.FloatVector.fromArray(Gemm.F, x, i).neg().abs().neg()
                                    .lanewise(jdk.incubator.vector.VectorOperators.EXP).intoArray(y, i);
                        }
                    }
                });
            }
            if ("pack".contains(only)) {
                // The im2col packing of a 3x3 conv 320->? at 64x64 alone; "GFLOP/s" here counts 2 flops per packed float
                // times 320 output channels, i.e. the share of a 320-channel conv's time that packing takes.
                ConvShape shape = new ConvShape(320, 64, 64, 3, 3, 1, 1, 1, 64);
                float[] x = Naive.random(rnd, 320 * 64 * 64), pack = new float[Gemm.KC * 256];
                report("pack 3x3 320@64 (as 320-out conv)", 2.0 * 320 * 2880 * 4096, () -> {
                    for (int k0 = 0; k0 < 2880; k0 += Gemm.KC) {
                        for (int p0 = 0; p0 < 4096; p0 += 256) {
                            shape.pack(x, 0, k0, Math.min(Gemm.KC, 2880 - k0), p0, 256, pack);
                        }
                    }
                });
            }
            if ("linear".contains(only)) {
                for (int[] s : new int[][]{{8192, 320, 320}, {8192, 320, 2560}, {8192, 1280, 320}, {2048, 640, 640}, {154, 768, 768}, {512, 1280, 1280}}) {
                    LinearWeights w = k.prepareLinear(Tensor.ofFloats(arena, Naive.random(rnd, s[1] * s[2]), s[2], s[1]), null);
                    float[] x = Naive.random(rnd, s[0] * s[1]), y = new float[s[0] * s[2]];
                    report("linear M=" + s[0] + " K=" + s[1] + " N=" + s[2], 2.0 * s[0] * s[1] * s[2], () -> k.linear(x, s[0], w, y));
                }
            }
            if ("conv".contains(only)) {
                // batch, in, out, size, stride
                for (int[] s : new int[][]{{2, 320, 320, 64, 1}, {2, 640, 640, 32, 1}, {2, 1280, 1280, 16, 1}, {2, 1280, 1280, 8, 1},
                        {2, 320, 320, 64, 2}, {1, 128, 128, 256, 1}, {2, 320, 640, 32, 0}, {2, 2880, 320, 64, 0}}) {
                    int ks = s[4] == 0 ? 1 : 3, stride = Math.max(1, s[4]), pad = ks / 2;
                    int o = (s[3] + 2 * pad - ks) / stride + 1;
                    ConvWeights w = k.prepareConv(Tensor.ofFloats(arena, Naive.random(rnd, s[2] * s[1] * ks * ks), s[2], s[1], ks, ks), null);
                    float[] x = Naive.random(rnd, s[0] * s[1] * s[3] * s[3]), y = new float[s[0] * s[2] * o * o];
                    report("conv" + ks + "x" + ks + "/" + stride + " " + s[1] + "->" + s[2] + " @" + s[3] + " b" + s[0],
                            2.0 * s[0] * s[2] * o * o * s[1] * ks * ks,
                            () -> k.conv2d(x, s[0], s[3], s[3], w, stride, pad, pad, o, o, y));
                }
            }
            if ("attention".contains(only)) {
                // batch, heads, queries, keys, dim
                for (int[] s : new int[][]{{2, 8, 4096, 4096, 40}, {2, 8, 4096, 77, 40}, {2, 8, 1024, 1024, 80}, {2, 8, 256, 256, 160}, {2, 5, 4096, 4096, 64}}) {
                    int w = s[1] * s[4];
                    float[] q = Naive.random(rnd, s[0] * s[2] * w), kk = Naive.random(rnd, s[0] * s[3] * w), v = Naive.random(rnd, s[0] * s[3] * w);
                    float[] out = new float[q.length];
                    report("attention b" + s[0] + " h" + s[1] + " " + s[2] + "x" + s[3] + " d" + s[4], 4.0 * s[0] * s[1] * s[2] * s[3] * s[4],
                            () -> k.attention(q, kk, v, s[0], s[1], s[2], s[3], s[4], (float) (1 / Math.sqrt(s[4])), false, out));
                }
            }
        }
    }

    /** On-CPU nanoseconds of the calling thread (Linux schedstat). */
    private static long cpuNanos() {
        try {
            String s = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/schedstat"));
            return Long.parseLong(s.substring(0, s.indexOf(' ')));
        } catch (java.io.IOException e) {
            return System.nanoTime();
        }
    }

    private static void report(String what, double flops, Runnable r) {
        long first = System.nanoTime();
        r.run();
        double firstMs = (System.nanoTime() - first) / 1e6;
        double best = Double.MAX_VALUE, bestCpu = Double.MAX_VALUE;
        long until = System.nanoTime() + 3_000_000_000L;
        int runs = 0;
        while (runs < 3 || (System.nanoTime() < until && runs < 50)) {
            long t = System.nanoTime(), c = cpuNanos();
            r.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e9);
            bestCpu = Math.min(bestCpu, (cpuNanos() - c) / 1e9);
            runs++;
        }
        // Per CPU-second of the calling thread: with sd.threads=1, the rate a busy shared machine would not steal.
        System.out.printf("%-40s %8.1f GFLOP/s  best %8.2f ms  first %8.1f ms  (%6.1f GFLOP per caller CPU-s)%n",
                what, flops / best / 1e9, best * 1e3, firstMs, flops / bestCpu / 1e9);
    }
}
