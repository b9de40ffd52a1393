package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;

/**
 * Linear layers, {@code y = x Wᵀ + b}, and GEGLU's two projections in one pass, on the {@link Gemm} micro-kernel:
 * A = x read in place, B = the weights, packed once at load into NR-wide panels (16-bit weights stay 16-bit and
 * are widened a K block at a time). Arguments are checked by the caller ({@link VectorKernels}).
 */
final class Linear {
    /**
     * Linear weights packed into NR-wide panels: panel p holds {@code W[p·NR + j, k]} at {@code (p·in + k)·NR + j};
     * F32 in {@code panels}, or F16/BF16 weights in the same layout in {@code half} (the other is null).
     */
    record Panels(int inFeatures, int outFeatures, float[] panels, Half half, float[] bias) implements LinearWeights {
    }

    /**
     * Rows of x per linear task: each widened 16-bit KC x NR panel slice serves them all, and their C block
     * (48 KB) stays in L2. Interleaved runs: 96 rows were 2-7% slower at the U-Net's 32x32 and 16x16 levels,
     * where widening took a tenth of a transformer block; 384 were up to 5% slower at 4096 rows.
     */
    private static final int ROWS = 192;

    /**
     * Per-thread buffers, allocated once per thread: the F32 copy of one DEEP_KC x NR slice of a 16-bit panel, the C
     * tile of ragged edges, and a GEGLU task's value and gate products (ROWS x 2·NR).
     */
    private record Scratch(float[] wide, float[] tile, float[] products) {
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(
            new float[Gemm.DEEP_KC * Gemm.NR], new float[Gemm.MR * Gemm.NR], new float[ROWS * 2 * Gemm.NR]));

    private Linear() {
    }

    /** Checks {@code weight} and {@code bias} and packs them into {@link Panels}, 16-bit weights kept 16-bit. */
    static Panels pack(Tensor weight, Tensor bias, Kernels kernels) {
        WeightData.checkLinear(weight, bias);
        int out = Math.toIntExact(weight.dim(0)), in = Math.toIntExact(weight.dim(1));
        int count = (out + Gemm.NR - 1) / Gemm.NR;
        int size = Math.multiplyExact(count * in, Gemm.NR);
        float[] biasF = WeightData.bias(bias, out, kernels);
        // The stored form is dropped as soon as it is packed: only the panels stay in memory. A task packs whole
        // panels, on as many threads as may read the stored form.
        if (WeightData.isHalf(weight)) {
            short[] panels = new short[size];
            WeightData.forTasks(weight, count, (p0, p1) -> {
                // A panel's rows, one run of the stored form: a full-size copy would double the load's peak.
                short[] rows = new short[Gemm.NR * in];
                for (int p = p0; p < p1; p++) {
                    int n = Math.min(Gemm.NR, out - p * Gemm.NR);
                    WeightData.bits(weight, (long) p * Gemm.NR * in, rows, n * in);
                    toPanel(rows, 0, n, in, panels, p * in * Gemm.NR);
                }
            });
            return new Panels(in, out, null, new Half(panels, weight.dtype() == DType.BF16), biasF);
        }
        float[] w = WeightData.floats(weight, kernels), panels = new float[size];
        Parallel.forRange(count, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                toPanel(w, p * Gemm.NR * in, Math.min(Gemm.NR, out - p * Gemm.NR), in, panels, p * in * Gemm.NR);
            }
        });
        return new Panels(in, out, panels, null, biasF);
    }

    /**
     * Rows {@code [0, n)} of {@code in} values from {@code rows[at]} into one panel from {@code panel[to]}, value k
     * of row r at {@code to + k·NR + r}: 16 k at a time, so that the 16 panel rows being written and each row's
     * piece being read stay in L1 (row by row, every value went to a cache line of its own: 1.4-1.6x slower on one
     * thread, alternated in one JVM).
     */
    private static void toPanel(short[] rows, int at, int n, int in, short[] panel, int to) {
        for (int k0 = 0; k0 < in; k0 += 16) {
            for (int r = 0; r < n; r++) {
                for (int k = k0; k < Math.min(in, k0 + 16); k++) {
                    panel[to + k * Gemm.NR + r] = rows[at + r * in + k];
                }
            }
        }
    }

    /** {@link #toPanel(short[], int, int, int, short[], int)} for F32 weights. */
    private static void toPanel(float[] rows, int at, int n, int in, float[] panel, int to) {
        for (int k0 = 0; k0 < in; k0 += 16) {
            for (int r = 0; r < n; r++) {
                for (int k = k0; k < Math.min(in, k0 + 16); k++) {
                    panel[to + k * Gemm.NR + r] = rows[at + r * in + k];
                }
            }
        }
    }

    /**
     * {@code y = x Wᵀ + b} as GEMM with A = x read in place and B = the weight panels, a task per block of rows and
     * panel ({@link #forEachPanel}) writing its rows x NR block of y.
     */
    static void linear(float[] x, int rows, Panels w, float[] y) {
        int out = w.outFeatures;
        forEachPanel(rows, out, (m0, mr, p, s) -> panelProduct(x, m0, mr, w, p, y, m0 * out + p * Gemm.NR, out, s));
    }

    /**
     * GEGLU as one GEMM pass: a task computes the same panel of the value and of the gate projection into its own
     * block ({@code products}: each row's NR values, then its NR gates), still in L2, and writes {@code value ·
     * gelu(gate)} to y. The two-pass way wrote the 2n-wide projection to memory and read it back (84 MB for a
     * guided 512x512 image at the first level), then wrote y. Sums run as in {@link #linear}: each half is bit for
     * bit what {@code linear} gives.
     */
    static void geglu(float[] x, int rows, Panels v, Panels g, float[] y) {
        int n = v.outFeatures, nr = Gemm.NR;
        forEachPanel(rows, n, (m0, mr, p, s) -> {
            panelProduct(x, m0, mr, v, p, s.products, 0, 2 * nr, s);
            panelProduct(x, m0, mr, g, p, s.products, nr, 2 * nr, s);
            int col0 = p * nr, cols = Math.min(nr, n - col0);
            for (int r = 0; r < mr; r++) {
                VectorKernels.gegluRow(s.products, 2 * nr * r, 2 * nr * r + nr, cols, y, (m0 + r) * n + col0);
            }
        });
    }

    /** One task of a dense layer: rows {@code [m0, m0 + mr)} of x against weight panel p. */
    private interface PanelTask {
        void run(int m0, int mr, int p, Scratch s);
    }

    /**
     * Runs {@code task} for every block of rows of x and panel of {@code out} outputs, in parallel. A block's tasks
     * follow one another on a thread, sharing its rows of x; each task's C block (rows x NR) stays in L2 across all
     * K blocks. Row blocks shrink when there are few rows (CLIP: 77) so that every thread gets several tasks.
     * Reading a block of x ahead of its first panel (a float per cache line) once made 4096x320 -> 320 ~5% faster
     * on one thread; with K blocks {@link Gemm#DEEP_KC} deep it made 1280- and 5120-wide layers 2-3% slower and
     * the others no faster (alternated in one JVM), so x now arrives through the micro-kernel's own loads.
     */
    private static void forEachPanel(int rows, int out, PanelTask task) {
        int panels = (out + Gemm.NR - 1) / Gemm.NR, tiles = (rows + Gemm.MR - 1) / Gemm.MR;
        int wanted = Math.max(1, (4 * Parallel.threads() + panels - 1) / panels);
        int blockRows = Math.min(ROWS, (tiles + wanted - 1) / wanted * Gemm.MR);
        int mBlocks = (rows + blockRows - 1) / blockRows;
        Parallel.forRange(mBlocks * panels, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            for (int t = t0; t < t1; t++) {
                int m0 = (t / panels) * blockRows, mr = Math.min(blockRows, rows - m0), p = t % panels;
                task.run(m0, mr, p, s);
            }
        });
    }

    /**
     * {@code C[0:mr, 0:cols] = x[m0:m0+mr] · (panel p of W)ᵀ + b}, C's rows {@code ldc} apart from {@code cOff}, cols
     * the panel's width: a K block at a time, 16-bit weights widened per block. Every element of C is still one
     * chain of FMAs in k order: where the blocks end changes no bit of it.
     */
    private static void panelProduct(float[] x, int m0, int mr, Panels w, int p, float[] c, int cOff, int ldc, Scratch s) {
        int in = w.inFeatures, nr = Gemm.NR, col0 = p * nr, cols = Math.min(nr, w.outFeatures - col0);
        int block = Gemm.deepBlock(in);
        for (int k0 = 0; k0 < in; k0 += block) {
            int kc = Math.min(block, in - k0);
            float[] b = w.panels;
            int bOff = (p * in + k0) * nr;
            if (w.half != null) {
                w.half.widen(bOff, kc * nr, s.wide, 0);
                b = s.wide;
                bOff = 0;
            }
            if (k0 == 0) {
                // The first K block starts from the bias: no pass first touching C's rows to fill them.
                Gemm.panel(x, m0 * in, in, mr, b, bOff, kc, w.bias, col0, 0, c, cOff, ldc, cols, s.tile);
            } else {
                Gemm.panel(x, m0 * in + k0, in, mr, b, bOff, kc, c, cOff, ldc, cols, s.tile);
            }
        }
    }
}
