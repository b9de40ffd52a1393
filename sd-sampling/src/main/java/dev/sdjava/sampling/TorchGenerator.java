package dev.sdjava.sampling;

/**
 * The random numbers of {@code torch.Generator('cpu').manual_seed(seed)}: an MT19937 engine and
 * torch's CPU {@code randn}/{@code rand} algorithms, reproduced bit for bit (golden README §8), so
 * that a seed gives the same latents, and so the same image, as diffusers on a CPU.
 *
 * <p>{@code randn} of a tensor with at least 16 elements uses torch's vectorised Box-Muller in
 * float32 with the Cephes polynomials of {@code avx_mathfun.h}; smaller tensors use a double
 * Box-Muller whose second value is cached in the generator across calls. Draws are sequential by
 * nature: the result never depends on a thread count. Not thread-safe; one generator per run.
 */
public final class TorchGenerator {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    /** torch computes 2π in double and rounds it to float once. */
    private static final float TWO_PI_F = (float) (2.0 * Math.PI);

    private final int[] state = new int[N];
    private int next;
    private double cachedNormal;
    private boolean hasCachedNormal;
    /** The 16 uniforms of the overlapping tail block of a randn whose size is not a multiple of 16. */
    private final float[] tail = new float[16];

    public TorchGenerator(long seed) {
        manualSeed(seed);
    }

    /** {@code manual_seed}: only the low 32 bits count; also drops the cached normal value. */
    public void manualSeed(long seed) {
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        next = N;
        hasCachedNormal = false;
    }

    /** The next raw 32-bit engine word (an unsigned value in an int). */
    public int nextInt() {
        if (next >= N) {
            twist();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & UPPER_MASK) | (state[(i + 1) % N] & LOWER_MASK);
            state[i] = state[(i + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        next = 0;
    }

    /** torch's {@code random64()}: two words, the first one high. */
    private long nextLong() {
        long hi = nextInt() & 0xffffffffL;
        long lo = nextInt() & 0xffffffffL;
        return (hi << 32) | lo;
    }

    /** A float32 uniform in [0, 1) from 24 random bits, as {@code torch.rand}. */
    private float nextFloat() {
        return (nextInt() & 0xffffff) * 0x1p-24f;
    }

    /** A double uniform in [0, 1) from 53 random bits. */
    private double nextDouble() {
        return (nextLong() & ((1L << 53) - 1)) * 0x1p-53;
    }

    /** {@code torch.rand(out.length)}: fills {@code out} with float32 uniforms in [0, 1). */
    public void rand(float[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = nextFloat();
        }
    }

    /** {@code torch.randn(shape)} as a new array; the shape only matters through its element count. */
    public float[] randn(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in randn shape " + java.util.Arrays.toString(shape));
            }
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("randn shape " + java.util.Arrays.toString(shape) + " is too large for one array");
        }
        float[] out = new float[(int) n];
        randn(out);
        return out;
    }

    /** {@code torch.randn} of a contiguous float32 tensor with {@code out.length} elements, in place. */
    public void randn(float[] out) {
        int n = out.length;
        if (n < 16) {
            for (int i = 0; i < n; i++) {
                out[i] = (float) nextDoubleNormal();
            }
            return;
        }
        rand(out);
        for (int i = 0; i + 16 <= n; i += 16) {
            boxMuller16(out, i);
        }
        if (n % 16 != 0) {
            // torch draws one more block of 16 and overwrites the last 16 outputs with it.
            rand(tail);
            boxMuller16(tail, 0);
            System.arraycopy(tail, 0, out, n - 16, 16);
        }
    }

    /** torch's {@code normal_fill_16}: uniforms u[0..7] give radii, u[8..15] angles. */
    private static void boxMuller16(float[] data, int at) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1.0f - data[at + j];
            float u2 = data[at + j + 8];
            float radius = (float) Math.sqrt(-2.0f * CephesMath.log(u1));
            float theta = TWO_PI_F * u2;
            data[at + j] = radius * CephesMath.cos(theta);
            data[at + j + 8] = radius * CephesMath.sin(theta);
        }
    }

    /** torch's {@code normal_distribution<double>} with the generator's cached second value. */
    private double nextDoubleNormal() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = nextDouble();
        double u2 = nextDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log1p(-u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * StrictMath.sin(theta);
        hasCachedNormal = true;
        return r * StrictMath.cos(theta);
    }
}
