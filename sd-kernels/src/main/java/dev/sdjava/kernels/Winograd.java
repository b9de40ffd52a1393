package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * 3x3, stride-1, "same" convolutions by Winograd's minimal filtering F(m x m, 3x3) (Lavin and Gray, 2015): each
 * m x m block of output is {@code Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A} for the (m+2) x (m+2) input tile d under it, which
 * costs (m+2)² multiplies per input channel instead of 9m². Summed over input channels, the element-wise product
 * becomes (m+2)² independent GEMMs, one per position ξ of the transformed tile: {@code M_ξ[out, tiles] = U_ξ[out,
 * in] · V_ξ[in, tiles]}, run on the shared register-blocked micro-kernel ({@link Gemm}). Two sizes: F(4x4, 3x3)
 * ({@link WinogradF4}, 2.25 multiplies per output and input channel) where images are large enough for its
 * transformed weights (4x the weights) to pay off, F(2x2, 3x3) ({@link WinogradF2}, 4 per output) below that.
 *
 * <p>Memory: the transformed weights U are never kept between calls. A call transforms them a block of output
 * channels at a time ({@link #WEIGHT_BUDGET}) into scratch reused across calls, shared by the threads. Then each
 * task takes one panel of NR tiles: it transforms the panel's input into V (positions x in x NR floats,
 * thread-local), runs the GEMMs for its output channels, a few at a time so that M stays in L2, and writes
 * Y = Aᵀ M A + bias. When U needs several blocks and the whole V fits {@link #INPUT_BUDGET} (few tiles, many
 * channels), or U needs {@link #MANY_BLOCKS}, the order is turned round: see {@link #byChannelBlocks}. The
 * transforms write whole vectors only: lanes past a segment of tiles write V columns that a later segment, the
 * next channel or the padding after each matrix owns, and that are overwritten or never read (masked stores
 * measured slow).
 *
 * <p>Determinism: each output is one fixed sequence of operations (input transform, one K-ascending chain of
 * FMAs per element of the products, output transform) whatever thread or task computes it, and the tile size
 * depends on the image's size only, so results depend neither on the thread count nor on the batch. They differ
 * from the direct convolution by rounding only (measured in WinogradTest).
 */
final class Winograd {
    private static final VectorSpecies<Float> F = Gemm.F;
    private static final int L = Gemm.L, NR = Gemm.NR;
    /** Floats of transformed weights U one call holds (16 MB): a block of output channels over all input channels. */
    private static final int WEIGHT_BUDGET = 1 << 22;
    /**
     * Floats of M per block of output channels: 96 rows of F(2x2, 3x3)'s 16 positions (42 of F(4x4)'s 36) stay in
     * L2 while read back; 24 to 96 rows measured alike with F(4x4).
     */
    private static final int M_BUDGET = 16 * 96 * NR;
    /** Tiles per image for the weight transform to pay off (see {@link #suits}). */
    private static final int MIN_TILES = 64;
    /**
     * Floats of transformed input V a call may keep whole to transform it once (72 MB: up to 960 channels at 64x64
     * or 1920 at 32x32 in a guided batch, with F(4x4)); past it V is transformed per block of U (or per group of
     * panels: {@link #MANY_BLOCKS}). At 32 MB, 1920 -> 640 at 32x32 took the other order and ran 2.7x slower: U
     * in 11 blocks, each transforming the input again, in segments of only 8 tiles; at 48 MB, 960 -> 320 at 64x64
     * (71 MB of V, U in 3 blocks) ran 1.15-1.37x slower than with V kept whole.
     */
    private static final int INPUT_BUDGET = 9 << 21;
    /**
     * Blocks of U from which the input is not transformed again per block but the weights per group of panels
     * (V over {@link #INPUT_BUDGET}): 1920 -> 640 at 48x48 (SD 2.x at 768, guided) has 11 blocks, and ran at 377
     * GFLOP/s eff. against 790 for 640 -> 640 there; with 2 or 3 blocks (640 or 960 -> 320 at 64x64, the VAE's
     * 512 at 128x128) the weights transformed again per group measured 10-13% slower.
     */
    private static final int MANY_BLOCKS = 4;
    /** Floats of U per task when V is kept whole (8 MB): 96 output channels of 1280, measured best of 12..192. */
    private static final int CHUNK_U = 1 << 21;

    private static final int V = 0, U = 1, M = 2, ROWS = 3, WIDE = 4, TILE = 5, ALL_V = 6;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[7][]);

    /** The three transforms of one F(m x m, 3x3) and the sizes they need. */
    abstract static class Transforms {
        /** m, the side of an output tile. */
        final int tile;
        /** (m+2)², the positions of a transformed tile: one GEMM each. */
        final int positions;
        /** Floats of scratch {@link #filters} needs after the weights. */
        final int filterScratch;
        /** Floats of scratch a segment's input or output transform needs. */
        final int buffer;

        Transforms(int tile, int filterScratch, int buffer) {
            this.tile = tile;
            this.positions = (tile + 2) * (tile + 2);
            this.filterScratch = filterScratch;
            this.buffer = buffer;
        }

        /**
         * U = G g Gᵀ of one output channel: {@code g[at, at + 9·in)} its 3x3 kernels in K order ({@link
         * ConvShape#source}: tap t of the group of L channels from c at {@code g[at + 9c + t·L]}, one vector, the
         * last group narrower), {@code g[scratch]} on {@link #filterScratch} floats of scratch; U[ξ, c] written to
         * {@code u[uAt + ξ·stride + c]}.
         */
        abstract void filters(float[] g, int at, int scratch, int in, float[] u, int uAt, int stride);

        /**
         * V = Bᵀ d B of tiles {@code tx .. tx+count-1} of tile row ty of one input channel's plane (at {@code x[plane]}),
         * tile j's position ξ written to {@code v[vAt + ξ·xiStride + j]}.
         */
        abstract void inputSegment(float[] x, int plane, int height, int width, int ty, int tx, int count,
                                   float[] v, int vAt, int xiStride, float[] buf);

        /**
         * Y = Aᵀ M A + bias of the same tiles of one output channel, M's position ξ of tile j at {@code m[at +
         * ξ·stride + j]}, written (only where inside the image) to the plane at {@code y[plane]}.
         */
        abstract void outputSegment(float[] m, int at, int stride, int count, float bias, float[] y, int plane,
                                    int height, int width, int ty, int tx, float[] buf);
    }

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
     * faster than the implicit GEMM: at least 32 input channels (fewer leave the GEMMs too shallow), any number of
     * output channels (with few, the implicit GEMM packs 9 floats per pixel and input channel for a handful of
     * rows, Winograd's input transform 2.25 or 4: the VAE's 128 -> 3 at 512x512 ran 3-4.7x faster, the U-Net's
     * 320 -> 4 2.2-3.3x), and at least {@link #MIN_TILES} 2x2 tiles per image (16x16 pixels) for the weight
     * transform, 16 floats per weight pair, to pay off: 1280 -> 1280 at 16x16 measured 1.45x faster than the
     * implicit GEMM at batch 1 and 1.5x at batch 2, once the transformed input was kept whole ({@link
     * #INPUT_BUDGET}); at 8x8 it is slower. The count is per image, not per call, so that an image gets the same
     * bits alone as in a batch (tiled VAE decode relies on it), and the choice never depends on the thread count.
     */
    static boolean suits(ConvRows w, int batch, int height, int width, int stride, int padTop, int padLeft,
                         int outHeight, int outWidth) {
        return w.kernelHeight() == 3 && w.kernelWidth() == 3 && stride == 1 && padTop == 1 && padLeft == 1
                && outHeight == height && outWidth == width && w.inChannels() >= 32
                && tilesPerImage(height, width, 2) >= MIN_TILES;
    }

    /**
     * The tile size for an image: F(4x4, 3x3) from {@link #MIN_TILES} of its tiles per image (29x29 pixels) up,
     * where its 1.8x fewer multiplies than F(2x2, 3x3)'s outweigh a weight transform of 2.25x as many floats per
     * call: 640 -> 640 at 32x32 ran 1.3-1.5x faster at batch 1 and 2. Per image, like {@link #suits}.
     */
    static Transforms transformsFor(int height, int width) {
        return tilesPerImage(height, width, 4) >= MIN_TILES ? WinogradF4.INSTANCE : WinogradF2.INSTANCE;
    }

    private static int tilesPerImage(int height, int width, int m) {
        return Math.ceilDiv(height, m) * Math.ceilDiv(width, m);
    }

    /** {@code y = conv3x3(x, w) + bias}, x {@code [batch, in, height, width]}, y {@code [batch, out, height, width]}. */
    static void conv2d(float[] x, int batch, int height, int width, ConvRows w, float[] y) {
        Transforms f = transformsFor(height, width);
        int in = w.inChannels(), out = w.outChannels(), xi = f.positions;
        int tilesX = Math.ceilDiv(width, f.tile), perImage = tilesPerImage(height, width, f.tile), tiles = batch * perImage;
        int panels = Math.ceilDiv(tiles, NR);
        // Output channels in blocks whose U fits the budget, as few and as even as possible.
        int blocks = Math.ceilDiv(out, Math.max(Gemm.MR, WEIGHT_BUDGET / (xi * in)));
        int ob = Math.ceilDiv(Math.ceilDiv(out, blocks), Gemm.MR) * Gemm.MR;
        int rowsPerM = Math.max(Gemm.MR, M_BUDGET / (xi * NR) / Gemm.MR * Gemm.MR);
        int uXi = spaced(ob * in), vXi = spaced(in * NR), mXi = spaced(rowsPerM * NR);
        Geometry g = new Geometry(f, in, out, height, width, tilesX, perImage, tiles);
        if (blocks > 1 && ((long) panels * xi * vXi <= INPUT_BUDGET || blocks >= MANY_BLOCKS)) {
            byChannelBlocks(x, g, w, y, panels, vXi);
            return;
        }
        float[] u = scratch(U, xi * uXi);
        // With few panels, each panel's rows are split too, so that every thread has work.
        int split = Math.max(1, Math.min(Math.ceilDiv(ob, Gemm.MR), Math.ceilDiv(2 * Parallel.threads(), panels)));
        for (int o0 = 0; o0 < out; o0 += ob) {
            int first = o0, rows = Math.min(ob, out - o0), perTask = Math.ceilDiv(Math.ceilDiv(rows, split), Gemm.MR) * Gemm.MR;
            Parallel.forRange(Math.ceilDiv(rows, Gemm.MR), (t0, t1) -> {
                transformWeights(f, w, first, t0 * Gemm.MR, Math.min(rows, t1 * Gemm.MR), in, uXi, u);
            });
            Parallel.forRange(panels * split, (t0, t1) -> {
                float[] v = scratch(V, xi * vXi + L), m = scratch(M, xi * mXi + L), tile = scratch(TILE, Gemm.MR * NR);
                float[] buf = scratch(ROWS, f.buffer);
                for (int t = t0; t < t1; t++) {
                    int panel = t / split, r0 = (t % split) * perTask, r1 = Math.min(rows, r0 + perTask);
                    transformInput(x, g, panel, v, 0, vXi, buf);
                    for (int m0 = r0; m0 < r1; m0 += rowsPerM) {
                        int mr = Math.min(rowsPerM, r1 - m0);
                        for (int q = 0; q < xi; q++) {
                            Gemm.product(u, q * uXi + m0 * in, in, mr, v, q * vXi, in, Gemm.ZERO, 0, 0, m, q * mXi, NR, NR, tile);
                        }
                        transformOutput(m, mXi, g, panel, first + m0, mr, w.bias(), y, buf);
                    }
                }
            });
        }
    }

    /**
     * Few tiles and many channels (640 at 32x32, batch 1: U would need two blocks, V is 10 MB): V is kept for as
     * many panels as {@link #INPUT_BUDGET} holds (all of them, mostly), and each task transforms the weights of a
     * chunk of output channels into its own scratch and runs them against those panels, so that no U is written
     * out and read back per block of the other order. A next group of panels transforms the weights again.
     */
    private static void byChannelBlocks(float[] x, Geometry g, ConvRows w, float[] y, int panels, int vXi) {
        Transforms f = g.f;
        int in = g.in, out = g.out, xi = f.positions;
        int group = (int) Math.clamp(INPUT_BUDGET / ((long) xi * vXi), 1, panels);
        float[] v = scratch(ALL_V, group * xi * vXi + L);
        int mb = Math.max(Gemm.MR, CHUNK_U / (xi * in) / Gemm.MR * Gemm.MR);
        int uXi = spaced(mb * in), mXi = spaced(mb * NR);
        for (int p0 = 0; p0 < panels; p0 += group) {
            int first = p0, count = Math.min(group, panels - p0);
            Parallel.forRange(count, (t0, t1) -> {
                float[] buf = scratch(ROWS, f.buffer);
                for (int p = t0; p < t1; p++) {
                    transformInput(x, g, first + p, v, p * xi * vXi, vXi, buf);
                }
            });
            Parallel.forRange(Math.ceilDiv(out, mb), (t0, t1) -> {
                float[] u = scratch(U, xi * uXi), m = scratch(M, xi * mXi + L), tile = scratch(TILE, Gemm.MR * NR);
                float[] buf = scratch(ROWS, f.buffer);
                for (int t = t0; t < t1; t++) {
                    int o0 = t * mb, rows = Math.min(mb, out - o0);
                    transformWeights(f, w, o0, 0, rows, in, uXi, u);
                    for (int p = 0; p < count; p++) {
                        for (int q = 0; q < xi; q++) {
                            Gemm.product(u, q * uXi, in, rows, v, (p * xi + q) * vXi, in, Gemm.ZERO, 0, 0, m, q * mXi, NR, NR, tile);
                        }
                        transformOutput(m, mXi, g, first + p, o0, rows, w.bias(), y, buf);
                    }
                }
            });
        }
    }

    /** The sizes every step needs. */
    private record Geometry(Transforms f, int in, int out, int height, int width, int tilesX, int perImage, int tiles) {
    }

    /**
     * The distance between the matrices of one transformed block: at least {@code n} floats and 64 bytes more
     * than a multiple of 4 KB, so that the streams a transform reads or writes fall in different L1 sets (a
     * power-of-two distance would put them all in one 12-way set).
     */
    private static int spaced(int n) {
        return Math.ceilDiv(n, 1024) * 1024 + Math.max(16, L);
    }

    /**
     * U[ξ, r, c] at {@code ξ·stride + r·in + c} for output channels {@code o0 + r}, r in [r0, r1). The channels'
     * weights are read {@link #weightRows} at a time into this thread's buffer (ConvRows stores them in K blocks,
     * where a group of channels is one run per block; read channel by channel, each was 45-90 pieces of 256 bytes
     * far apart, and 1280 -> 1280's weights took 14-17 ms to read on one thread against 6-8 in groups of 12), and
     * the floats after them are the transform's scratch. On the Intel Xeon of the log, batch 2, four weight sets
     * cycled so that none stays in cache, medians of three alternated JVMs: 2560 -> 1280 @16 1.14x, 1920 -> 640
     * @32 1.08x, 1280 @16 1.06x, 640 @32 1.05x, 320 @64 1.04x.
     */
    private static void transformWeights(Transforms f, ConvRows w, int o0, int r0, int r1, int in, int stride,
                                         float[] u) {
        int kk = 9 * in, group = weightRows(in);
        float[] rows = scratch(WIDE, group * kk + f.filterScratch);
        for (int g0 = r0; g0 < r1; g0 += group) {
            int n = Math.min(group, r1 - g0);
            w.rows(o0 + g0, n, rows, 0);
            for (int i = 0; i < n; i++) {
                f.filters(rows, i * kk, n * kk, in, u, (g0 + i) * in, stride);
            }
        }
    }

    /**
     * Output channels whose weights {@link #transformWeights} reads at a time: 12, fewer where their F32 rows would
     * pass 512 KB, so that they stay in L2 while transformed (groups of 24 of 1280 x 9 weights, 1.1 MB, read
     * slower than 12).
     */
    private static int weightRows(int in) {
        return Math.clamp((1 << 17) / (9 * in), 1, 12);
    }

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
                g.f.inputSegment(x, plane, g.height, g.width, ty, tx, count, v, vAt + c * NR + (t - start), vXi, rows);
                t += count;
            }
        }
    }

    /** {@code n} values of input row {@code row} from column {@code col}, zeros outside the image. */
    static void paddedRow(float[] x, int plane, int height, int width, int row, int col, int n, float[] dst, int at) {
        if (row < 0 || row >= height) {
            Arrays.fill(dst, at, at + n, 0);
            return;
        }
        int lo = Math.min(n, Math.max(0, -col)), hi = Math.max(lo, Math.min(n, width - col));
        Arrays.fill(dst, at, at + lo, 0);
        System.arraycopy(x, plane + row * width + col + lo, dst, at + lo, hi - lo);
        Arrays.fill(dst, at + hi, at + n, 0);
    }

    /** Lane indices for selectFrom(a, b): the even lanes of a:b, the odd ones, and the two halves of a zip. */
    static final FloatVector EVEN = lanes(0, 2), ODD = lanes(1, 2), ZIP_LO = zip(0), ZIP_HI = zip(L / 2);

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

    /** Y for output channels {@code o0 .. o0+rows-1} and the tiles of panel {@code panel}; M[ξ, r, j] at {@code ξ·mXi + r·NR + j}. */
    private static void transformOutput(float[] m, int mXi, Geometry g, int panel, int o0, int rows, float[] bias, float[] y,
                                        float[] buf) {
        int start = panel * NR, end = Math.min(g.tiles, start + NR);
        for (int t = start; t < end; ) {
            int b = t / g.perImage, r = t % g.perImage, ty = r / g.tilesX, tx = r % g.tilesX;
            int count = Math.min(end - t, g.tilesX - tx);
            for (int i = 0; i < rows; i++) {
                int plane = (b * g.out + o0 + i) * g.height * g.width;
                g.f.outputSegment(m, i * NR + (t - start), mXi, count, bias[o0 + i], y, plane, g.height, g.width, ty, tx, buf);
            }
            t += count;
        }
    }
}
