package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A hash of every bit of the vector kernels' results at shapes whose split into tasks depends on the pool's
 * thread count (rows per linear task, output-channel chunks of a convolution, Winograd's row split, whole
 * attention heads or query blocks per task). {@link AnyThreadCountTest} runs {@link #main} in JVMs with other
 * {@code sd.threads} and compares.
 */
final class ThreadCountDigests {
    private ThreadCountDigests() {
    }

    public static void main(String[] args) {
        System.out.println("threads " + Parallel.threads() + ", lanes " + Gemm.L);
        compute().forEach((name, digest) -> System.out.println(name + " " + digest));
    }

    static Map<String, Integer> compute() {
        VectorKernels k = new VectorKernels();
        Random rnd = new Random(42);
        Map<String, Integer> digests = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : new int[][]{{77, 768, 320}, {1000, 320, 640}}) { // rows, in, out
                LinearWeights w = k.prepareLinear(half(arena, rnd, s[2], s[1]), half(arena, rnd, s[2]));
                float[] x = Naive.random(rnd, s[0] * s[1]), y = new float[s[0] * s[2]];
                k.linear(x, s[0], w, y);
                digests.put("linear " + s[0] + "x" + s[1] + "->" + s[2], Arrays.hashCode(y));
            }
            LinearWeights value = k.prepareLinear(half(arena, rnd, 640, 320), null);
            LinearWeights gate = k.prepareLinear(half(arena, rnd, 640, 320), null);
            float[] gx = Naive.random(rnd, 300 * 320), gy = new float[300 * 640];
            k.geglu(gx, 300, value, gate, gy);
            digests.put("geglu 300x320->640", Arrays.hashCode(gy));
            // batch, in, out, size, kernel, stride: K in parts at 8x8, Winograd F(2x2) at 16x16 and F(4x4) at 32x32,
            // per-block implicit GEMM for stride 2 and 1x1.
            for (int[] s : new int[][]{{1, 384, 64, 8, 3, 1}, {2, 384, 64, 8, 3, 1}, {2, 64, 64, 16, 3, 1},
                    {2, 64, 64, 32, 3, 1}, {2, 64, 64, 32, 3, 2}, {2, 128, 64, 32, 1, 1}}) {
                int batch = s[0], in = s[1], out = s[2], size = s[3], kernel = s[4], stride = s[5], pad = kernel / 2;
                int o = (size + 2 * pad - kernel) / stride + 1;
                ConvWeights w = k.prepareConv(half(arena, rnd, out, in, kernel, kernel), half(arena, rnd, out));
                float[] x = Naive.random(rnd, batch * in * size * size), y = new float[batch * out * o * o];
                k.conv2d(x, batch, size, size, w, stride, pad, pad, o, o, y);
                digests.put("conv" + kernel + "x" + kernel + "/" + stride + " " + in + "->" + out + " @" + size + " b" + batch,
                        Arrays.hashCode(y));
            }
            // batch, heads, tokens, head dim: 16 heads in all (whole heads per task up to 4 threads, query blocks
            // past that), and one head (the VAE's).
            for (int[] s : new int[][]{{2, 8, 200, 40}, {1, 1, 300, 64}}) {
                int n = s[0] * s[2] * s[1] * s[3];
                float[] q = Naive.random(rnd, n), kk = Naive.random(rnd, n), v = Naive.random(rnd, n), o = new float[n];
                k.attention(q, kk, v, s[0], s[1], s[2], s[2], s[3], 0.125f, false, o);
                digests.put("attention b" + s[0] + " h" + s[1] + " " + s[2] + " d" + s[3], Arrays.hashCode(o));
            }
            float[] x = Naive.random(rnd, 2 * 64 * 256), y = new float[x.length];
            float[] gamma = Naive.random(rnd, 64), beta = Naive.random(rnd, 64);
            k.groupNorm(x, 2, 64, 256, 32, 1e-5f, gamma, beta, true, y);
            digests.put("groupNorm+SiLU 2x64x256", Arrays.hashCode(y));
        }
        return digests;
    }

    /** Random F16 weights: the stored form of SD's checkpoints, widened by the kernels. */
    private static Tensor half(Arena arena, Random rnd, long... shape) {
        Tensor t = Tensor.allocate(arena, DType.F16, shape);
        for (long i = 0; i < t.numel(); i++) {
            t.dtype().writeFloat(t.data(), i, (float) rnd.nextGaussian());
        }
        return t;
    }
}
