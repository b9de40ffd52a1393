package dev.sdjava.kernels;

import dev.sdjava.tensor.Tensor;

import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.util.Random;

/**
 * Drives every kernel of a provider through small shapes often enough for C2 to compile its hot loops, then
 * times a small GEMM as a start-up self-check. Vector API code before C2 is 100x slower (every vector is an
 * object), so a large first call would otherwise take seconds instead of milliseconds.
 */
final class WarmUp {
    private static final System.Logger LOG = System.getLogger(WarmUp.class.getName());
    /**
     * Rounds of all kernels before the GEMM rate is first checked: past C2's invocation and loop thresholds
     * for the methods called least often. More rounds run while the JIT is still busy (a loaded machine).
     */
    private static final int MIN_ROUNDS = 600;
    private static final long MAX_NANOS = 10_000_000_000L;
    /** Below this a vector GEMM is clearly not running compiled SIMD code (a scalar loop reaches ~10). */
    private static final double SANE_GFLOPS = 20;

    private WarmUp() {
    }

    static void run(Kernels k) {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            // Small shapes that still take the paths within each kernel: edge tiles, two K blocks, two key blocks,
            // masked tails. Winograd's convolutions (32+ input channels at 16x16 and up), GroupNorm on rows as long
            // as SD's and stride 2's vector taps (rows of 16 or more) are left to the first U-Net step: warming the
            // first two too made that step 0.4-1 s shorter and this warm-up 0.2-0.5 s longer, no gain in total
            // (10.52 against 10.54 s, three alternated runs each); warming the third made self-attention's first
            // calls 150-300 ms slower (its ragged panel changed how C2 compiled the shared micro-kernel path).
            LinearWeights linear = k.prepareLinear(tensor(arena, rnd, 70, 300), tensor(arena, rnd, 70));
            ConvWeights conv = k.prepareConv(tensor(arena, rnd, 7, 4, 3, 3), tensor(arena, rnd, 7));
            float[] x = random(rnd, 2 * 4 * 10 * 10), y = new float[2 * 7 * 10 * 10], scratch = new float[x.length];
            float[] rows = random(rnd, 7 * 300), out = new float[7 * 70];
            float[] q = random(rnd, 70 * 8), kv = random(rnd, 100 * 8), attn = new float[q.length];
            float[] gamma = random(rnd, 4);
            short[] bits = new short[100];
            long deadline = System.nanoTime() + MAX_NANOS;
            LinearWeights probe = k.prepareLinear(tensor(arena, rnd, 64, 256), null);
            float[] px = random(rnd, 12 * 256), py = new float[12 * 64];
            for (int round = 0; System.nanoTime() < deadline; round++) {
                if (round >= MIN_ROUNDS && round % 50 == 0 && gemmRate(k, probe, px, py) >= SANE_GFLOPS) {
                    break;
                }
                k.linear(rows, 7, linear, out);
                k.geglu(rows, 7, linear, linear, out);
                // Two images take the per-block convolution path, the strided one's 16 pixels the shared-pack one.
                k.conv2d(x, 2, 10, 10, conv, 1, 1, 1, 10, 10, y);
                k.conv2d(x, 1, 10, 10, conv, 2, 0, 0, 4, 4, y);
                k.attention(q, kv, kv, 1, 2, 70, 100, 4, 0.35f, round % 2 == 0, attn); // causal every other round
                k.groupNorm(x, 1, 4, 100, 2, 1e-5f, gamma, gamma, round % 2 == 0, scratch);
                k.layerNorm(x, 5, 80, 1e-5f, null, null, scratch);
                k.softmax(scratch, 5, 80);
                k.toTokens(x, 2, 4, 100, scratch);
                k.upsampleNearest(x, 1, 2, 20, 4, 40, scratch);
                k.silu(x, x.length, scratch);
                k.gelu(x, x.length, scratch);
                k.geluTanh(x, x.length, scratch);
                k.quickGelu(x, x.length, scratch);
                k.add(x, scratch, x.length, scratch);
                k.mul(x, scratch, x.length, scratch);
                k.bf16ToF32(bits, bits.length, scratch);
                k.f16ToF32(bits, bits.length, scratch);
            }
            selfCheck(k, arena, rnd);
        }
    }

    /** Warns when the compiled GEMM is far below any SIMD rate. */
    private static void selfCheck(Kernels k, Arena arena, Random rnd) {
        LinearWeights w = k.prepareLinear(tensor(arena, rnd, 64, 256), null);
        double gflops = gemmRate(k, w, random(rnd, 12 * 256), new float[12 * 64]);
        if (gflops < SANE_GFLOPS) {
            LOG.log(Level.WARNING, String.format("sd-kernels: a small GEMM runs at %.1f GFLOP/s with %s kernels after "
                    + "warm-up, far below what SIMD code reaches; is the JIT disabled (-Xint) or the machine overloaded?",
                    gflops, k.name()));
        } else {
            LOG.log(Level.DEBUG, String.format("sd-kernels: %s warm, small GEMM at %.1f GFLOP/s", k.name(), gflops));
        }
    }

    /** GFLOP/s of a 12 x 256 x 64 linear layer, best of five. */
    private static double gemmRate(Kernels k, LinearWeights w, float[] x, float[] y) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t = System.nanoTime();
            k.linear(x, 12, w, y);
            best = Math.min(best, System.nanoTime() - t);
        }
        return 2.0 * 12 * 256 * 64 / best;
    }

    private static Tensor tensor(Arena arena, Random rnd, long... shape) {
        return Tensor.ofFloats(arena, random(rnd, (int) Tensor.elementCount(shape)), shape);
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
