package dev.sdjava.bench;

import dev.sdjava.kernels.ConvWeights;
import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/**
 * The kernel calls that dominate an SD 1.5 U-Net step at 512x512 (64x64 latents, batch 1), at their
 * real shapes. Each knows its arithmetic (FLOPs, and bytes for the memory-bound one) and whether the
 * scalar reference provider runs it in reasonable time.
 */
public enum KernelCase {
    /** Self-attention Q/K/V and out projections at the first level. */
    LINEAR_QKV(new Linear(4096, 320, 320), true),
    /** The feed-forward GEGLU projection (to 2·1280). */
    LINEAR_GEGLU(new Linear(4096, 320, 2560), false),
    /** What the U-Net runs for that projection: both halves at once, then value · gelu(gate) ({@code Kernels.geglu}). */
    GEGLU(new Geglu(4096, 320, 1280), false),
    /** The feed-forward down projection after GEGLU. */
    LINEAR_FF_OUT(new Linear(4096, 1280, 320), false),
    /** Cross-attention K (or V) projection of the 77 CLIP tokens. */
    LINEAR_CROSS_KV(new Linear(77, 768, 320), true),
    CONV_320_64(new Conv3x3(320, 64), false),
    CONV_640_32(new Conv3x3(640, 32), false),
    CONV_1280_16(new Conv3x3(1280, 16), false),
    CONV_1280_8(new Conv3x3(1280, 8), true),
    /** Self-attention at the first level: 8 heads of 40 over 4096 tokens. */
    ATTENTION_SELF(new Attention(8, 4096, 4096, 40), false),
    /** Cross-attention at the first level: 4096 queries over the 77 text tokens. */
    ATTENTION_CROSS(new Attention(8, 4096, 77, 40), true),
    GROUPNORM_SILU(new GroupNormSilu(320, 64 * 64), true);

    private final Op op;
    private final boolean scalarCheap;

    KernelCase(Op op, boolean scalarCheap) {
        this.op = op;
        this.scalarCheap = scalarCheap;
    }

    /** "conv", "linear", "attention" or "norm". */
    public String kind() {
        return op.kind();
    }

    public String shape() {
        return op.shape();
    }

    /** Floating-point operations of one call (a multiply-add counts as two). */
    public double flops() {
        return op.flops();
    }

    /** Bytes one call must at least read and write; meaningful for the memory-bound cases. */
    public double bytes() {
        return op.bytes();
    }

    /** Memory-bound: its useful figure is GB/s; the fraction of the FMA peak is given for completeness. */
    public boolean memoryBound() {
        return op instanceof GroupNormSilu;
    }

    /** Small enough that the scalar reference kernels finish an iteration in about a second. */
    public boolean scalarCheap() {
        return scalarCheap;
    }

    /** Sets up inputs and prepared weights; the returned action is one timed call. */
    public Runnable prepare(Kernels k, Arena arena, long seed) {
        return op.prepare(k, arena, new SplittableRandom(seed));
    }

    private sealed interface Op {
        String kind();

        String shape();

        double flops();

        double bytes();

        Runnable prepare(Kernels k, Arena arena, SplittableRandom rnd);
    }

    private record Linear(int rows, int in, int out) implements Op {
        public String kind() {
            return "linear";
        }

        public String shape() {
            return rows + "x" + in + " -> " + out;
        }

        public double flops() {
            return Flops.linear(rows, in, out);
        }

        public double bytes() {
            return 4.0 * ((double) rows * in + (double) in * out + (double) rows * out);
        }

        public Runnable prepare(Kernels k, Arena arena, SplittableRandom rnd) {
            LinearWeights w = k.prepareLinear(f16(arena, rnd, 1.0 / in, out, in), f16(arena, rnd, 0.0025, out));
            float[] x = random(rnd, rows * in);
            float[] y = new float[rows * out];
            return () -> k.linear(x, rows, w, y);
        }
    }

    private record Geglu(int rows, int in, int inner) implements Op {
        public String kind() {
            return "linear";
        }

        public String shape() {
            return rows + "x" + in + " -> 2x" + inner + " -> " + inner;
        }

        public double flops() {
            return Flops.linear(rows, in, 2 * inner);
        }

        public double bytes() {
            return 4.0 * ((double) rows * in + 2.0 * in * inner + (double) rows * inner);
        }

        public Runnable prepare(Kernels k, Arena arena, SplittableRandom rnd) {
            LinearWeights value = k.prepareLinear(f16(arena, rnd, 1.0 / in, inner, in), f16(arena, rnd, 0.0025, inner));
            LinearWeights gate = k.prepareLinear(f16(arena, rnd, 1.0 / in, inner, in), f16(arena, rnd, 0.0025, inner));
            float[] x = random(rnd, rows * in);
            float[] y = new float[rows * inner];
            return () -> k.geglu(x, rows, value, gate, y);
        }
    }

    private record Conv3x3(int channels, int size) implements Op {
        public String kind() {
            return "conv";
        }

        public String shape() {
            return "3x3 " + channels + "->" + channels + " @" + size + "x" + size;
        }

        public double flops() {
            return Flops.conv(channels, channels, 3, size, size);
        }

        public double bytes() {
            return 4.0 * (2.0 * channels * size * size + 9.0 * channels * channels);
        }

        public Runnable prepare(Kernels k, Arena arena, SplittableRandom rnd) {
            ConvWeights w = k.prepareConv(f16(arena, rnd, 1.0 / (channels * 9), channels, channels, 3, 3),
                    f16(arena, rnd, 0.0025, channels));
            float[] x = random(rnd, channels * size * size);
            float[] y = new float[x.length];
            return () -> k.conv2d(x, 1, size, size, w, 1, 1, 1, size, size, y);
        }
    }

    private record Attention(int heads, int queries, int keys, int headDim) implements Op {
        public String kind() {
            return "attention";
        }

        public String shape() {
            return heads + "h x " + queries + "q x " + keys + "k x d" + headDim;
        }

        public double flops() {
            return Flops.attention(1, heads, queries, keys, headDim);
        }

        public double bytes() {
            return 4.0 * heads * headDim * (2.0 * queries + 2.0 * keys);
        }

        public Runnable prepare(Kernels k, Arena arena, SplittableRandom rnd) {
            int width = heads * headDim;
            float[] q = random(rnd, queries * width);
            float[] kk = random(rnd, keys * width);
            float[] v = random(rnd, keys * width);
            float[] out = new float[queries * width];
            float scale = (float) (1 / Math.sqrt(headDim));
            return () -> k.attention(q, kk, v, 1, heads, queries, keys, headDim, scale, false, out);
        }
    }

    private record GroupNormSilu(int channels, int spatial) implements Op {
        public String kind() {
            return "norm";
        }

        public String shape() {
            return "GroupNorm(32)+SiLU " + channels + "x" + spatial;
        }

        public double flops() {
            return Flops.groupNorm((long) channels * spatial);
        }

        public double bytes() {
            return 4.0 * 2 * channels * spatial;
        }

        public Runnable prepare(Kernels k, Arena arena, SplittableRandom rnd) {
            float[] x = random(rnd, channels * spatial);
            float[] y = new float[x.length];
            float[] gamma = random(rnd, channels);
            float[] beta = random(rnd, channels);
            return () -> k.groupNorm(x, 1, channels, spatial, 32, 1e-5f, gamma, beta, true, y);
        }
    }

    /** N(0, variance) values stored as F16, as a real checkpoint holds them. */
    static Tensor f16(Arena arena, SplittableRandom rnd, double variance, long... shape) {
        Tensor t = Tensor.allocate(arena, DType.F16, shape);
        double sd = Math.sqrt(variance);
        for (long i = 0, n = t.numel(); i < n; i++) {
            DType.F16.writeFloat(t.data(), i, (float) (rnd.nextGaussian() * sd));
        }
        return t;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
