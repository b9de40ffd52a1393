package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * 3x3, stride-1, "same" convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2015): each
 * 2x2 block of output is {@code Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A} for the 4x4 input tile d under it, which costs 16
 * multiplies per input channel instead of 36. Summed over input channels, the element-wise product becomes
 * 16 independent GEMMs, one per position ξ of the 4x4 transformed tile: {@code M_ξ[out, tiles] = U_ξ[out, in] ·
 * V_ξ[in, tiles]}, run on the shared register-blocked micro-kernel ({@link Gemm}).
 *
 * <p>Memory: the transformed weights U (16/9 the size of the weights, in F32) are never kept between calls. A call
 * transforms them a block of output channels at a time ({@link #WEIGHT_BUDGET}: every U-Net and VAE layer up to
 * 512 x 512 channels in one block) into scratch reused across calls, shared by the threads. Then each task takes
 * one panel of NR tiles: it transforms the panel's input into V (16 x in x NR floats, thread-local), runs the 16
 * GEMMs for its output channels, ROWS_PER_M at a time so that M stays in L2, and writes Y = Aᵀ M A + bias. When
 * U needs several blocks but the whole V fits {@link #INPUT_BUDGET} (few tiles, many channels), the order is
 * turned round: see {@link #byChannelBlocks}.
 *
 * <p>Determinism: each output is one fixed sequence of operations (input transform, K-ascending FMAs in KC
 * blocks, output transform) whatever thread or task computes it, so results do not depend on the thread count.
 * They differ from the direct convolution by rounding only: the transforms add and halve, so the error grows
 * with the magnitude of the transformed terms, not their cancellation (measured in WinogradTest).
 */
final class Winograd {
    private static final VectorSpecies<Float> F = Gemm.F;
    private static final int L = Gemm.L, NR = Gemm.NR;
    /** Positions of the transformed 4x4 tile: 16 GEMMs. */
    private static final int XI = 16;
    /** Floats of transformed weights U one call holds (16 MB): a block of output channels over all input channels. */
    private static final int WEIGHT_BUDGET = 1 << 22;
    /** Output channels per block of M: 16 x 96 x NR floats stay in L2 while the output transform reads them. */
    private static final int ROWS_PER_M = 96;
    /** Tiles per image for the weight transform to pay off (see {@link #suits}). */
    private static final int MIN_TILES = 64;
    /**
     * Floats of transformed input V a call may keep whole to transform it once (32 MB: 2560 channels at 16x16 in a
     * guided batch); past it V is transformed per block of output channels.
     */
    private static final int INPUT_BUDGET = 1 << 23;
    /** Floats of U per task when V is kept whole (8 MB): 96 output channels of 1280, measured best of 12..192. */
    private static final int CHUNK_U = 1 << 21;

    private static final int V = 0, U = 1, M = 2, ROWS = 3, WIDE = 4, TILE = 5, ALL_V = 6;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[7][]);


    private Winograd() {
    }

    /** This thread's scratch array {@code slot}, grown to at least {@code n} floats; kept across calls. */
    private static float[] scratch(int slot, int n) {
        float[][] s = SCRATCH.get();
        if (s[slot] == null || s[slot].length < n) {
            s[slot] = new float[n];
        }
        return s[slot];
    }

    /**
     * Whether this class computes a convolution: 3x3, stride 1, padding 1 on every side, and where it measured
     * faster than the implicit GEMM: at least 32 channels in and out (fewer leave the 16 GEMMs too shallow or too
     * narrow), and at least {@link #MIN_TILES} 2x2 tiles per image (16x16 pixels) for the weight transform, 16
     * floats per weight pair, to pay off: 1280 -> 1280 at 16x16 measured 1.45x faster than the implicit GEMM at
     * batch 1 and 1.5x at batch 2, once the transformed input was kept whole ({@link #INPUT_BUDGET}); at 8x8 it is
     * slower. The count is per image, not per call, so that an image gets the same bits alone as in a batch
     * (tiled VAE decode relies on it), and the choice never depends on the thread count.
     */
    static boolean suits(VectorKernels.ConvRows w, int batch, int height, int width, int stride, int padTop, int padLeft,
                         int outHeight, int outWidth) {
        return w.kernelHeight() == 3 && w.kernelWidth() == 3 && stride == 1 && padTop == 1 && padLeft == 1
                && outHeight == height && outWidth == width && w.inChannels() >= 32 && w.outChannels() >= 32
                && ((height + 1) / 2) * ((width + 1) / 2) >= MIN_TILES;
    }

    /** {@code y = conv3x3(x, w) + bias}, x {@code [batch, in, height, width]}, y {@code [batch, out, height, width]}. */
    static void conv2d(float[] x, int batch, int height, int width, VectorKernels.ConvRows w, float[] y) {
        int in = w.inChannels(), out = w.outChannels();
        int tilesX = (width + 1) / 2, perImage = (height + 1) / 2 * tilesX, tiles = batch * perImage;
        int panels = ceilDiv(tiles, NR);
        // Output channels in blocks whose U fits the budget, as few and as even as possible.
        int blocks = ceilDiv(out, Math.max(Gemm.MR, WEIGHT_BUDGET / (XI * in)));
        int ob = ceilDiv(ceilDiv(out, blocks), Gemm.MR) * Gemm.MR;
        int uXi = spaced(ob * in), vXi = spaced(in * NR), mXi = spaced(ROWS_PER_M * NR);
        Geometry g = new Geometry(in, out, height, width, tilesX, perImage, tiles);
        if (blocks > 1 && (long) panels * XI * vXi <= INPUT_BUDGET) {
            byChannelBlocks(x, g, w, y, panels, vXi);
            return;
        }
        float[] u = scratch(U, XI * uXi);
        // With few panels, each panel's rows are split too, so that every thread has work.
        int split = Math.max(1, Math.min(ceilDiv(ob, Gemm.MR), ceilDiv(2 * Parallel.threads(), panels)));
        for (int o0 = 0; o0 < out; o0 += ob) {
            int first = o0, rows = Math.min(ob, out - o0), perTask = ceilDiv(ceilDiv(rows, split), Gemm.MR) * Gemm.MR;
            Parallel.forRange(ceilDiv(rows, Gemm.MR), (t0, t1) -> {
                transformWeights(w, first, t0 * Gemm.MR, Math.min(rows, t1 * Gemm.MR), in, uXi, u, scratch(WIDE, in * 9 + TAPS));
            });
            Parallel.forRange(panels * split, (t0, t1) -> {
                float[] v = scratch(V, XI * vXi + L), m = scratch(M, XI * mXi + L), tile = scratch(TILE, Gemm.MR * NR);
                float[] buf = scratch(ROWS, BUFFER);
                for (int t = t0; t < t1; t++) {
                    int panel = t / split, r0 = (t % split) * perTask, r1 = Math.min(rows, r0 + perTask);
                    transformInput(x, g, panel, v, 0, vXi, buf);
                    for (int m0 = r0; m0 < r1; m0 += ROWS_PER_M) {
                        int mr = Math.min(ROWS_PER_M, r1 - m0);
                        for (int xi = 0; xi < XI; xi++) {
                            Gemm.product(u, xi * uXi + m0 * in, in, mr, v, xi * vXi, in, Gemm.ZERO, 0, 0, m, xi * mXi, NR, NR, tile);
                        }
                        transformOutput(m, mXi, g, panel, first + m0, mr, w.bias(), y, buf);
                    }
                }
            });
        }
    }

    /**
     * Few tiles and many channels (640 at 32x32, batch 1: U would need two blocks, V is 10 MB): V of every panel is
     * kept for the call, and each task transforms the weights of a block of output channels into its own scratch
     * and runs them against all panels, so that no U is written out and read back per block of the other order.
     */
    private static void byChannelBlocks(float[] x, Geometry g, VectorKernels.ConvRows w, float[] y, int panels, int vXi) {
        int in = g.in, out = g.out;
        float[] v = scratch(ALL_V, panels * XI * vXi + L);
        Parallel.forRange(panels, (t0, t1) -> {
            float[] buf = scratch(ROWS, BUFFER);
            for (int p = t0; p < t1; p++) {
                transformInput(x, g, p, v, p * XI * vXi, vXi, buf);
            }
        });
        int mb = Math.max(Gemm.MR, CHUNK_U / (XI * in) / Gemm.MR * Gemm.MR);
        int uXi = spaced(mb * in), mXi = spaced(mb * NR);
        Parallel.forRange(ceilDiv(out, mb), (t0, t1) -> {
            float[] u = scratch(U, XI * uXi), m = scratch(M, XI * mXi + L), tile = scratch(TILE, Gemm.MR * NR);
            float[] buf = scratch(ROWS, BUFFER), row = scratch(WIDE, in * 9 + TAPS);
            for (int t = t0; t < t1; t++) {
                int o0 = t * mb, rows = Math.min(mb, out - o0);
                transformWeights(w, o0, 0, rows, in, uXi, u, row);
                for (int p = 0; p < panels; p++) {
                    for (int xi = 0; xi < XI; xi++) {
                        Gemm.product(u, xi * uXi, in, rows, v, (p * XI + xi) * vXi, in, Gemm.ZERO, 0, 0, m, xi * mXi, NR, NR, tile);
                    }
                    transformOutput(m, mXi, g, p, o0, rows, w.bias(), y, buf);
                }
            }
        });
    }

    /** The sizes every step needs. */
    private record Geometry(int in, int out, int height, int width, int tilesX, int perImage, int tiles) {
    }

    /**
     * The distance between the 16 matrices of one transformed block: at least {@code n} floats and 64 bytes more
     * than a multiple of 4 KB, so that the 16 streams a transform reads or writes fall in different L1 sets (a
     * power-of-two distance would put all 16 in one 12-way set).
     */
    private static int spaced(int n) {
        return ceilDiv(n, 1024) * 1024 + Math.max(16, L);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    // ---- weights: U = G g Gᵀ, G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1] ----

    /**
     * U[ξ, r, c] at {@code ξ·stride + r·in + c} for output channels {@code o0 + r}, r in [r0, r1); each channel's
     * weights are read into {@code row} first (ConvRows stores them in K blocks, not rows), and the {@link #TAPS}
     * floats after them are the vector path's scratch.
     */
    private static void transformWeights(VectorKernels.ConvRows w, int o0, int r0, int r1, int in, int stride, float[] u, float[] row) {
        for (int r = r0; r < r1; r++) {
            w.row(o0 + r, row, 0);
            filterRow(row, in, u, r * in, stride);
        }
    }

    /** Lane i reads input channel i of L: the 3x3 kernels are 9 floats apart. */
    private static final int[] NINES = java.util.stream.IntStream.range(0, L).map(i -> 9 * i).toArray();
    /** Scratch of the vector path: the 9 gathered taps of L channels, then rows 1 and 2 of G g (6 vectors). */
    private static final int TAPS = 15 * L;

    /** One output channel's filters ({@code g[0, 9·in)}): L input channels at a time in vectors, the rest one by one. */
    private static void filterRow(float[] g, int in, float[] u, int uAt, int stride) {
        int c = 0, taps = 9 * in;
        for (; c + L <= in; c += L) {
            filters(g, 9 * c, taps, u, uAt + c, stride);
        }
        for (; c < in; c++) {
            int k = 9 * c;
            // Rows of G g: rows 0..3 of the 4x3 intermediate.
            float a00 = g[k], a01 = g[k + 1], a02 = g[k + 2];
            float a30 = g[k + 6], a31 = g[k + 7], a32 = g[k + 8];
            float e0 = a00 + a30, e1 = a01 + a31, e2 = a02 + a32;
            float a10 = 0.5f * (e0 + g[k + 3]), a11 = 0.5f * (e1 + g[k + 4]), a12 = 0.5f * (e2 + g[k + 5]);
            float a20 = 0.5f * (e0 - g[k + 3]), a21 = 0.5f * (e1 - g[k + 4]), a22 = 0.5f * (e2 - g[k + 5]);
            int o = uAt + c;
            filterTap(a00, a01, a02, u, o, stride);
            filterTap(a10, a11, a12, u, o + 4 * stride, stride);
            filterTap(a20, a21, a22, u, o + 8 * stride, stride);
            filterTap(a30, a31, a32, u, o + 12 * stride, stride);
        }
    }

    /**
     * The same arithmetic as the scalar loop, on L input channels per vector, staged through {@code g[t, t+TAPS)}.
     * Vectors never cross a call: a gather inlines into thousands of C2 nodes, and one method holding all nine hit
     * C2's node cutoff, left calls un-inlined and boxed every vector passed to them (megabytes of garbage per conv).
     */
    private static void filters(float[] g, int k, int t, float[] u, int o, int stride) {
        gatherRow(g, k, t);
        gatherRow(g, k + 3, t + 3 * L);
        gatherRow(g, k + 6, t + 6 * L);
        middleRows(g, t);
        filterTaps(g, t, u, o, stride);
        filterTaps(g, t + 9 * L, u, o + 4 * stride, stride);
        filterTaps(g, t + 12 * L, u, o + 8 * stride, stride);
        filterTaps(g, t + 6 * L, u, o + 12 * stride, stride);
    }

    /** Kernel row {@code g[k, k+3)} of L channels (9 floats apart) as three vectors at {@code g[t, t+3L)}. */
    private static void gatherRow(float[] g, int k, int t) {
        FloatVector.fromArray(F, g, k, NINES, 0).intoArray(g, t);
        FloatVector.fromArray(F, g, k + 1, NINES, 0).intoArray(g, t + L);
        FloatVector.fromArray(F, g, k + 2, NINES, 0).intoArray(g, t + 2 * L);
    }

    /** Rows 1 and 2 of G g from the three gathered kernel rows: ½(g0 + g2 ± g1), to {@code g[t+9L, t+15L)}. */
    private static void middleRows(float[] g, int t) {
        for (int j = 0; j < 3; j++) {
            FloatVector e = FloatVector.fromArray(F, g, t + j * L).add(FloatVector.fromArray(F, g, t + (6 + j) * L));
            FloatVector g1 = FloatVector.fromArray(F, g, t + (3 + j) * L);
            e.add(g1).mul(0.5f).intoArray(g, t + (9 + j) * L);
            e.sub(g1).mul(0.5f).intoArray(g, t + (12 + j) * L);
        }
    }

    /** One row of (G g) times Gᵀ for L channels, the row's three vectors read from {@code t[at, at+3L)}. */
    private static void filterTaps(float[] t, int at, float[] u, int o, int stride) {
        FloatVector a0 = FloatVector.fromArray(F, t, at), a1 = FloatVector.fromArray(F, t, at + L);
        FloatVector a2 = FloatVector.fromArray(F, t, at + 2 * L);
        FloatVector e = a0.add(a2);
        a0.intoArray(u, o);
        e.add(a1).mul(0.5f).intoArray(u, o + stride);
        e.sub(a1).mul(0.5f).intoArray(u, o + 2 * stride);
        a2.intoArray(u, o + 3 * stride);
    }

    /** One row of (G g) times Gᵀ: four values, {@code stride} apart. */
    private static void filterTap(float a0, float a1, float a2, float[] u, int o, int stride) {
        float e = a0 + a2;
        u[o] = a0;
        u[o + stride] = 0.5f * (e + a1);
        u[o + 2 * stride] = 0.5f * (e - a1);
        u[o + 3 * stride] = a2;
    }

    // ---- input: V = Bᵀ d B, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] ----

    /**
     * V for panel {@code panel} (tiles {@code panel·NR ..}, in (image, tile row, tile column) order): V[ξ, c, j] at
     * {@code ξ·vXi + c·NR + j}.
     */
    private static void transformInput(float[] x, Geometry g, int panel, float[] v, int vAt, int vXi, float[] rows) {
        int start = panel * NR, end = Math.min(g.tiles, start + NR);
        for (int c = 0; c < g.in; c++) {
            for (int t = start; t < end; ) {
                int b = t / g.perImage, r = t % g.perImage, ty = r / g.tilesX, tx = r % g.tilesX;
                int count = Math.min(end - t, g.tilesX - tx);
                int plane = (b * g.in + c) * g.height * g.width;
                inputSegment(x, plane, g.height, g.width, ty, tx, count, v, vAt + c * NR + (t - start), vXi, rows);
                t += count;
            }
        }
    }

    /**
     * Floats per buffered input row of a segment (at most NR tiles, 2·NR + 2 columns), rounded up to whole pairs
     * of vectors; the buffer holds 4 such rows, then their 8 even/odd halves.
     */
    private static final int ROW = 2 * L * ceilDiv(NR + 1, L);
    private static final int BUFFER = 8 * ROW + L;
    /** Lane indices for selectFrom(a, b): the even lanes of a:b, the odd ones, and the two halves of a zip. */
    private static final FloatVector EVEN = lanes(0, 2), ODD = lanes(1, 2), ZIP_LO = zip(0), ZIP_HI = zip(L / 2);

    private static FloatVector lanes(int first, int step) {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) {
            a[i] = first + step * i;
        }
        return FloatVector.fromArray(F, a, 0);
    }

    private static FloatVector zip(int first) {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) {
            a[i] = (i % 2) * L + first + i / 2;
        }
        return FloatVector.fromArray(F, a, 0);
    }

    /**
     * Tiles {@code tx .. tx+count-1} of tile row ty: the four input rows under them (zero past the border), the
     * vertical half of the transform (Bᵀ d) split into even and odd columns, then the horizontal half, which for
     * tile j reads columns 2j..2j+3, i.e. even and odd columns j and j+1. Whole vectors only: lanes past the
     * segment write V columns that a later segment, the next channel or the padding after each matrix owns, and
     * that are overwritten or never read (masked stores measured slow).
     */
    private static void inputSegment(float[] x, int plane, int height, int width, int ty, int tx, int count,
                                     float[] v, int vAt, int xiStride, float[] buf) {
        int n = 2 * count + 2, col = 2 * tx - 1, half = ROW / 2;
        for (int i = 0; i < 4; i++) {
            paddedRow(x, plane, height, width, 2 * ty - 1 + i, col, n, buf, i * ROW);
        }
        for (int c = 0; c < n; c += 2 * L) {
            vertical(buf, c, 4 * ROW + c / 2, half);
        }
        for (int i = 0; i < 4; i++) {
            int e = 4 * ROW + 2 * i * half, at = vAt + 4 * i * xiStride;
            for (int j = 0; j < count; j += L) {
                horizontal(buf, e + j, e + half + j, v, at + j, xiStride);
            }
        }
    }

    /** Columns c..c+2L of the four rows: Bᵀ d, written as 8 half-rows (row i even, row i odd) of {@code half} floats. */
    private static void vertical(float[] buf, int c, int out, int half) {
        FloatVector a0 = FloatVector.fromArray(F, buf, c), a1 = FloatVector.fromArray(F, buf, c + L);
        FloatVector b0 = FloatVector.fromArray(F, buf, ROW + c), b1 = FloatVector.fromArray(F, buf, ROW + c + L);
        FloatVector c0 = FloatVector.fromArray(F, buf, 2 * ROW + c), c1 = FloatVector.fromArray(F, buf, 2 * ROW + c + L);
        FloatVector d0 = FloatVector.fromArray(F, buf, 3 * ROW + c), d1 = FloatVector.fromArray(F, buf, 3 * ROW + c + L);
        split(a0.sub(c0), a1.sub(c1), buf, out, half);
        split(b0.add(c0), b1.add(c1), buf, out + 2 * half, half);
        split(c0.sub(b0), c1.sub(b1), buf, out + 4 * half, half);
        split(b0.sub(d0), b1.sub(d1), buf, out + 6 * half, half);
    }

    private static void split(FloatVector lo, FloatVector hi, float[] buf, int at, int half) {
        EVEN.selectFrom(lo, hi).intoArray(buf, at);
        ODD.selectFrom(lo, hi).intoArray(buf, at + half);
    }

    /** Row i of Bᵀ d B for L tiles: e, o the even and odd columns of (Bᵀ d) row i, tile j reading j and j+1. */
    private static void horizontal(float[] buf, int e, int o, float[] v, int at, int stride) {
        FloatVector e0 = FloatVector.fromArray(F, buf, e), e1 = FloatVector.fromArray(F, buf, e + 1);
        FloatVector o0 = FloatVector.fromArray(F, buf, o), o1 = FloatVector.fromArray(F, buf, o + 1);
        e0.sub(e1).intoArray(v, at);
        o0.add(e1).intoArray(v, at + stride);
        e1.sub(o0).intoArray(v, at + 2 * stride);
        o0.sub(o1).intoArray(v, at + 3 * stride);
    }

    /** {@code n} values of input row {@code row} from column {@code col}, zeros outside the image. */
    private static void paddedRow(float[] x, int plane, int height, int width, int row, int col, int n, float[] dst, int at) {
        if (row < 0 || row >= height) {
            Arrays.fill(dst, at, at + n, 0);
            return;
        }
        int lo = Math.min(n, Math.max(0, -col)), hi = Math.max(lo, Math.min(n, width - col));
        Arrays.fill(dst, at, at + lo, 0);
        System.arraycopy(x, plane + row * width + col + lo, dst, at + lo, hi - lo);
        Arrays.fill(dst, at + hi, at + n, 0);
    }

    // ---- output: Y = Aᵀ M A + bias, Aᵀ = [1 1 1 0; 0 1 -1 -1] ----

    /** Y for output channels {@code o0 .. o0+rows-1} and the tiles of panel {@code panel}; M[ξ, r, j] at {@code ξ·mXi + r·NR + j}. */
    private static void transformOutput(float[] m, int mXi, Geometry g, int panel, int o0, int rows, float[] bias, float[] y,
                                        float[] buf) {
        int start = panel * NR, end = Math.min(g.tiles, start + NR);
        for (int t = start; t < end; ) {
            int b = t / g.perImage, r = t % g.perImage, ty = r / g.tilesX, tx = r % g.tilesX;
            int count = Math.min(end - t, g.tilesX - tx);
            for (int i = 0; i < rows; i++) {
                int plane = (b * g.out + o0 + i) * g.height * g.width;
                outputSegment(m, i * NR + (t - start), mXi, count, bias[o0 + i], y, plane, g.height, g.width, ty, tx, buf);
            }
            t += count;
        }
    }

    /**
     * Output rows 2ty and 2ty+1 (when inside the image) of the tiles tx .. tx+count-1 of one channel, L tiles per
     * {@link #outputRow} call.
     */
    private static void outputSegment(float[] m, int at, int stride, int count, float bias, float[] y, int plane,
                                      int height, int width, int ty, int tx, float[] buf) {
        int row = 2 * ty, top = plane + row * width + 2 * tx;
        int cols = Math.min(2 * count, width - 2 * tx);
        boolean bottom = row + 1 < height;
        for (int j = 0; j < count; j += L) {
            outputRow(m, at + j, stride, 1, bias, y, top + 2 * j, 2 * j, cols, buf);
            if (bottom) {
                outputRow(m, at + j + 4 * stride, stride, -1, bias, y, top + width + 2 * j, 2 * j, cols, buf);
            }
        }
    }

    /**
     * One output row of Aᵀ M A for L tiles, from M's rows {@code k, k+4, k+8} (top: s = M0 + M4 + M8, sign 1) or
     * {@code k+4, k+8, k+12} (bottom: M4 - M8 - M12, sign -1; sign·M is exact, so each fma rounds like the add or
     * subtract), per column c: left = s0 + s1 + s2 + bias and right = s1 - s2 - s3 + bias, zipped into 2L output
     * columns, of which those below {@code cols} are stored. One flat method on purpose: a vector passed to or
     * returned from a call C2 declines to inline (its node cutoff, reached quickly by vector code) is boxed.
     */
    private static void outputRow(float[] m, int k, int stride, float sign, float bias, float[] y, int at, int c,
                                  int cols, float[] buf) {
        FloatVector sv = FloatVector.broadcast(F, sign);
        int k1 = k + stride, k2 = k + 2 * stride, k3 = k + 3 * stride, d = 4 * stride, e = 8 * stride;
        FloatVector s0 = FloatVector.fromArray(F, m, k + e).fma(sv, FloatVector.fromArray(F, m, k + d).fma(sv, FloatVector.fromArray(F, m, k)));
        FloatVector s1 = FloatVector.fromArray(F, m, k1 + e).fma(sv, FloatVector.fromArray(F, m, k1 + d).fma(sv, FloatVector.fromArray(F, m, k1)));
        FloatVector s2 = FloatVector.fromArray(F, m, k2 + e).fma(sv, FloatVector.fromArray(F, m, k2 + d).fma(sv, FloatVector.fromArray(F, m, k2)));
        FloatVector s3 = FloatVector.fromArray(F, m, k3 + e).fma(sv, FloatVector.fromArray(F, m, k3 + d).fma(sv, FloatVector.fromArray(F, m, k3)));
        FloatVector left = s0.add(s1).add(s2).add(bias), right = s1.sub(s2).sub(s3).add(bias);
        FloatVector lo = ZIP_LO.selectFrom(left, right), hi = ZIP_HI.selectFrom(left, right);
        if (c + 2 * L <= cols) {
            lo.intoArray(y, at);
            hi.intoArray(y, at + L);
        } else {
            // The row's end (narrow images end every row here): through the buffer, as masked stores measured slow.
            lo.intoArray(buf, 0);
            hi.intoArray(buf, L);
            System.arraycopy(buf, 0, y, at, cols - c);
        }
    }
}
