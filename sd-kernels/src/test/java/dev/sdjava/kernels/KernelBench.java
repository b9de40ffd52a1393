package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;

import jdk.incubator.vector.FloatVector;

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
                for (int kc : new int[]{256}) {
                    // Half-precision A (the conv weights) widened per broadcast: the cost of keeping conv weights F16.
                    short[] a = new short[6 * kc];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = Float.floatToFloat16((float) rnd.nextGaussian());
                    }
                    float[] b = Naive.random(rnd, kc * Gemm.NR), c = new float[6 * Gemm.NR];
                    int reps = 20000 * 128 / kc;
                    report("micro F16-A 6x" + Gemm.NR + " kc=" + kc, 2.0 * 6 * Gemm.NR * kc * reps, () -> {
                        for (int i = 0; i < reps; i++) {
                            microF16(a, 0, kc, 2 * kc, 3 * kc, 4 * kc, 5 * kc, b, 0, kc, c, 0, Gemm.NR);
                        }
                    });
                }
                for (int kc : new int[]{128, 256, 512}) {
                    float[] a = Naive.random(rnd, 6 * kc), b = Naive.random(rnd, kc * Gemm.NR), c = new float[6 * Gemm.NR];
                    int reps = 20000 * 128 / kc;
                    report("micro 6x" + Gemm.NR + " kc=" + kc, 2.0 * 6 * Gemm.NR * kc * reps, () -> {
                        for (int i = 0; i < reps; i++) {
                            Gemm.micro(a, 0, kc, 2 * kc, 3 * kc, 4 * kc, 5 * kc, b, 0, kc, c, 0, Gemm.NR, c, 0, Gemm.NR);
                        }
                    });
                }
                // A linear task's pattern: 192 rows of x, 320 floats apart, streaming from L2, and C moving through
                // its 192 x NR block, against one KC x NR panel slice.
                int rows = 192, in = 320, kc = Gemm.KC, reps = 100;
                float[] a = Naive.random(rnd, rows * in), b = Naive.random(rnd, kc * Gemm.NR), c = new float[rows * Gemm.NR];
                report("micro 6x" + Gemm.NR + " kc=" + kc + " over 192 rows of x", 2.0 * rows * Gemm.NR * kc * reps, () -> {
                    for (int i = 0; i < reps; i++) {
                        for (int r = 0; r < rows; r += Gemm.MR) {
                            int a0 = r * in;
                            Gemm.micro(a, a0, a0 + in, a0 + 2 * in, a0 + 3 * in, a0 + 4 * in, a0 + 5 * in, b, 0, kc,
                                    c, r * Gemm.NR, Gemm.NR, c, r * Gemm.NR, Gemm.NR);
                        }
                    }
                });
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
                            shape.pack(x, 0, k0, Math.min(Gemm.KC, 2880 - k0), p0, 256, pack, 0);
                        }
                    }
                });
            }
            if ("task8".contains(only)) {
                // One thread's share of the 3x3 1280->1280 conv at 8x8 (batch 1), modelled on one thread: 162 weight
                // rows x 11520, widened MC x KC at a time from F16, against one packed 11520 x 64 im2col. The three
                // variants split the time between the micro-kernel, widening, and streaming the weights from DRAM.
                int rows = 162, kk = 11520, mc = 96, copies = 16;
                float[] pack = Naive.random(rnd, kk * Gemm.NR), c = new float[rows * Gemm.NR];
                float[] wide = Naive.random(rnd, Gemm.KC * mc), tile = new float[Gemm.MR * Gemm.NR];
                short[] bits = new short[copies * rows * kk];
                for (int i = 0; i < bits.length; i++) {
                    bits[i] = Float.floatToFloat16((float) rnd.nextGaussian());
                }
                Half half = new Half(bits, false);
                int tasks = 20;
                for (String variant : new String[]{"micro-kernel only", "widening weights in L3", "widening weights from DRAM"}) {
                    report("task8 " + variant + " x" + tasks, 2.0 * rows * kk * Gemm.NR * tasks, () -> {
                        for (int task = 0; task < tasks; task++) {
                            int base = variant.endsWith("DRAM") ? task % copies * rows * kk : 0;
                            for (int k0 = 0; k0 < kk; k0 += Gemm.KC) {
                                for (int m0 = 0; m0 < rows; m0 += mc) {
                                    int mr = Math.min(mc, rows - m0);
                                    if (!variant.startsWith("micro")) {
                                        half.widen(base + k0 * rows + m0 * Gemm.KC, mr * Gemm.KC, wide, 0);
                                    }
                                    Gemm.panel(wide, 0, Gemm.KC, mr, pack, k0 * Gemm.NR, Gemm.KC, c, m0 * Gemm.NR, Gemm.NR, Gemm.NR, tile);
                                }
                            }
                        }
                    });
                }
            }
            if ("linear".contains(only)) {
                for (int[] s : new int[][]{{8192, 320, 320}, {8192, 320, 2560}, {8192, 1280, 320}, {2048, 640, 640}, {154, 768, 768}, {512, 1280, 1280}}) {
                    LinearWeights w = k.prepareLinear(weights(arena, Naive.random(rnd, s[1] * s[2]), s[2], s[1]), null);
                    float[] x = Naive.random(rnd, s[0] * s[1]), y = new float[s[0] * s[2]];
                    report("linear M=" + s[0] + " K=" + s[1] + " N=" + s[2], 2.0 * s[0] * s[1] * s[2], () -> k.linear(x, s[0], w, y));
                }
            }
            if ("conv".contains(only)) {
                // batch, in, out, size, stride
                for (int[] s : new int[][]{{2, 320, 320, 64, 1}, {2, 640, 640, 32, 1}, {2, 1280, 1280, 16, 1}, {2, 1280, 1280, 8, 1},
                        {1, 320, 320, 64, 1}, {1, 640, 640, 32, 1}, {2, 1920, 640, 32, 1}, {2, 960, 320, 64, 1}, {2, 640, 320, 64, 1},
                        {2, 320, 320, 64, 2}, {2, 320, 640, 32, 0}, {2, 2880, 320, 64, 0}, {2, 320, 4, 64, 1},
                        // the VAE decoder's levels, its 1x1 convs and its last conv
                        {1, 512, 512, 64, 1}, {1, 512, 512, 128, 1}, {1, 256, 256, 256, 1}, {1, 128, 128, 512, 1},
                        {1, 256, 128, 512, 0}, {1, 512, 256, 256, 0}, {1, 128, 3, 512, 1}}) {
                    int ks = s[4] == 0 ? 1 : 3, stride = Math.max(1, s[4]), pad = ks / 2;
                    int o = (s[3] + 2 * pad - ks) / stride + 1;
                    ConvWeights w = k.prepareConv(weights(arena, Naive.random(rnd, s[2] * s[1] * ks * ks), s[2], s[1], ks, ks), null);
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

    /** A copy of {@link Gemm#micro} whose A operand is F16 bits, for the measurement above only. */
    static void microF16(short[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                      float[] b, int bOff, int kc, float[] c, int c0, int ldc) {
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        FloatVector s00 = FloatVector.fromArray(Gemm.F, c, c0), s01 = FloatVector.fromArray(Gemm.F, c, c0 + Gemm.L);
        FloatVector s02 = FloatVector.fromArray(Gemm.F, c, c0 + 2 * Gemm.L), s03 = FloatVector.fromArray(Gemm.F, c, c0 + 3 * Gemm.L);
        FloatVector s10 = FloatVector.fromArray(Gemm.F, c, c1), s11 = FloatVector.fromArray(Gemm.F, c, c1 + Gemm.L);
        FloatVector s12 = FloatVector.fromArray(Gemm.F, c, c1 + 2 * Gemm.L), s13 = FloatVector.fromArray(Gemm.F, c, c1 + 3 * Gemm.L);
        FloatVector s20 = FloatVector.fromArray(Gemm.F, c, c2), s21 = FloatVector.fromArray(Gemm.F, c, c2 + Gemm.L);
        FloatVector s22 = FloatVector.fromArray(Gemm.F, c, c2 + 2 * Gemm.L), s23 = FloatVector.fromArray(Gemm.F, c, c2 + 3 * Gemm.L);
        FloatVector s30 = FloatVector.fromArray(Gemm.F, c, c3), s31 = FloatVector.fromArray(Gemm.F, c, c3 + Gemm.L);
        FloatVector s32 = FloatVector.fromArray(Gemm.F, c, c3 + 2 * Gemm.L), s33 = FloatVector.fromArray(Gemm.F, c, c3 + 3 * Gemm.L);
        FloatVector s40 = FloatVector.fromArray(Gemm.F, c, c4), s41 = FloatVector.fromArray(Gemm.F, c, c4 + Gemm.L);
        FloatVector s42 = FloatVector.fromArray(Gemm.F, c, c4 + 2 * Gemm.L), s43 = FloatVector.fromArray(Gemm.F, c, c4 + 3 * Gemm.L);
        FloatVector s50 = FloatVector.fromArray(Gemm.F, c, c5), s51 = FloatVector.fromArray(Gemm.F, c, c5 + Gemm.L);
        FloatVector s52 = FloatVector.fromArray(Gemm.F, c, c5 + 2 * Gemm.L), s53 = FloatVector.fromArray(Gemm.F, c, c5 + 3 * Gemm.L);
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * Gemm.NR;
            FloatVector b0 = FloatVector.fromArray(Gemm.F, b, bk), b1 = FloatVector.fromArray(Gemm.F, b, bk + Gemm.L);
            FloatVector b2 = FloatVector.fromArray(Gemm.F, b, bk + 2 * Gemm.L), b3 = FloatVector.fromArray(Gemm.F, b, bk + 3 * Gemm.L);
            FloatVector x = FloatVector.broadcast(Gemm.F, Float.float16ToFloat(a[a0 + k]));
            s00 = x.fma(b0, s00); s01 = x.fma(b1, s01); s02 = x.fma(b2, s02); s03 = x.fma(b3, s03);
            x = FloatVector.broadcast(Gemm.F, Float.float16ToFloat(a[a1 + k]));
            s10 = x.fma(b0, s10); s11 = x.fma(b1, s11); s12 = x.fma(b2, s12); s13 = x.fma(b3, s13);
            x = FloatVector.broadcast(Gemm.F, Float.float16ToFloat(a[a2 + k]));
            s20 = x.fma(b0, s20); s21 = x.fma(b1, s21); s22 = x.fma(b2, s22); s23 = x.fma(b3, s23);
            x = FloatVector.broadcast(Gemm.F, Float.float16ToFloat(a[a3 + k]));
            s30 = x.fma(b0, s30); s31 = x.fma(b1, s31); s32 = x.fma(b2, s32); s33 = x.fma(b3, s33);
            x = FloatVector.broadcast(Gemm.F, Float.float16ToFloat(a[a4 + k]));
            s40 = x.fma(b0, s40); s41 = x.fma(b1, s41); s42 = x.fma(b2, s42); s43 = x.fma(b3, s43);
            x = FloatVector.broadcast(Gemm.F, Float.float16ToFloat(a[a5 + k]));
            s50 = x.fma(b0, s50); s51 = x.fma(b1, s51); s52 = x.fma(b2, s52); s53 = x.fma(b3, s53);
        }
        s00.intoArray(c, c0); s01.intoArray(c, c0 + Gemm.L); s02.intoArray(c, c0 + 2 * Gemm.L); s03.intoArray(c, c0 + 3 * Gemm.L);
        s10.intoArray(c, c1); s11.intoArray(c, c1 + Gemm.L); s12.intoArray(c, c1 + 2 * Gemm.L); s13.intoArray(c, c1 + 3 * Gemm.L);
        s20.intoArray(c, c2); s21.intoArray(c, c2 + Gemm.L); s22.intoArray(c, c2 + 2 * Gemm.L); s23.intoArray(c, c2 + 3 * Gemm.L);
        s30.intoArray(c, c3); s31.intoArray(c, c3 + Gemm.L); s32.intoArray(c, c3 + 2 * Gemm.L); s33.intoArray(c, c3 + 3 * Gemm.L);
        s40.intoArray(c, c4); s41.intoArray(c, c4 + Gemm.L); s42.intoArray(c, c4 + 2 * Gemm.L); s43.intoArray(c, c4 + 3 * Gemm.L);
        s50.intoArray(c, c5); s51.intoArray(c, c5 + Gemm.L); s52.intoArray(c, c5 + 2 * Gemm.L); s53.intoArray(c, c5 + 3 * Gemm.L);
    }

    /** F32 weights, or F16 ones with -Dbench.f16=true (kept 16-bit by the vector kernels). */
    private static Tensor weights(Arena arena, float[] values, long... shape) {
        Tensor f32 = Tensor.ofFloats(arena, values, shape);
        if (!Boolean.getBoolean("bench.f16")) {
            return f32;
        }
        Tensor t = Tensor.allocate(arena, dev.sdjava.tensor.DType.F16, shape);
        for (int i = 0; i < values.length; i++) {
            t.dtype().writeFloat(t.data(), i, values[i]);
        }
        return t;
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
