package dev.sdjava.kernels;

import java.util.Arrays;

/**
 * Convolution as an implicit GEMM: {@code y[o, p] = b[o] + Σ_k W[o, k] · X[k, p]} with k one tap of one input
 * channel (in {@link ConvShape#source}'s order) and X the im2col matrix, packed a K block at a time into NR-wide
 * panels over the pixels of all images in turn (zeros where the kernel reaches past the border). One path serves
 * 3x3, 1x1, stride 2 and asymmetric padding. Images of at most {@link #FEW_PANELS} panels sum K in parts
 * ({@link #convByParts}); the choice is per image, and within each way every output element sums its K blocks in
 * one fixed order, so the result depends neither on the batch nor on the thread count.
 *
 * <p>{@link Winograd} takes the 3x3 stride-1 convolutions it suits; this path takes the rest. Arguments are
 * checked by the caller ({@link VectorKernels}).
 */
final class ImplicitGemm {
    /** Rows of weights a convolution widens and runs at a time: the MC x KC block of A stays in L2. */
    private static final int MC = 96;
    /** Output pixels per convolution task: the packed activation block, KC x PIXELS floats, stays in L2. */
    private static final int PIXELS = 4 * Gemm.NR;

    /**
     * Per-thread buffers, allocated once per thread: the packed im2col block (KC x PIXELS), the F32 copy of MC x KC
     * rows of weights ({@link #multiply}), the C tile of ragged edges, the bias rows (MC x NR) a first K block
     * starts from, and one image's part of a panel that images share (KC x NR).
     */
    private record Scratch(float[] pack, float[] wide, float[] tile, float[] bias, float[] run) {
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(
            new float[Gemm.KC * PIXELS], new float[Gemm.KC * MC], new float[Gemm.MR * Gemm.NR],
            new float[MC * Gemm.NR], new float[Gemm.KC * Gemm.NR]));

    /** Pixel panels per image up to which a convolution sums K in parts ({@link #convByParts}): the 8x8 level. */
    private static final int FEW_PANELS = 2;
    /**
     * K blocks per part of {@link #convByParts}, at least: a 1280-channel 3x3 conv (90 blocks) sums in 7 parts; K of
     * up to 23 blocks (the 1x1 convs at 8x8) in one, which measured 6-14% faster for 2560 -> 1280 than two parts.
     */
    private static final int PART_BLOCKS = 12;
    /** The calling thread's buffers for {@link #convByParts}: partial sums, and an im2col all its tasks share. */
    private static final ThreadLocal<float[][]> PARTS = ThreadLocal.withInitial(() -> new float[3][0]);
    private static final int PARTIAL_SUMS = 0, SHARED_PACK = 1, END_TO_END = 2;

    /** The calling thread's buffer {@code slot}, grown on demand to at least {@code n} floats. */
    private static float[] partsBuffer(int slot, int n) {
        float[][] holder = PARTS.get();
        if (holder[slot].length < n) {
            holder[slot] = new float[n];
        }
        return holder[slot];
    }

    private ImplicitGemm() {
    }

    /** {@code y = conv(x, w)}: see the class comment. */
    static void conv2d(float[] x, int batch, int height, int width, ConvRows w,
                       int stride, int padTop, int padLeft, int outHeight, int outWidth, float[] y) {
        ConvShape shape = new ConvShape(w.inChannels(), height, width, w.kernelHeight(), w.kernelWidth(),
                stride, padTop, padLeft, outWidth);
        int pixels = outHeight * outWidth;
        ConvPanels panels = new ConvPanels(shape, batch, pixels, pixels);
        if (panels.perImage() > FEW_PANELS) {
            convByBlocks(x, w, panels, y);
        } else {
            convByParts(x, w, panels.endToEndIfFewer(), y);
        }
    }

    /**
     * The pixel panels of a convolution's output: {@code perImage} NR-wide panels per image, the last of each
     * image ragged, panel g covering pixels {@code [first(g), first(g) + width(g))} of image {@code g / perImage}.
     * Images of {@code imagePixels} that would leave panels part empty (4x4: 16 of 64 columns) lie end to end
     * instead, as one image of all their pixels ({@code batch} 1, {@code pixels} = images x imagePixels), a panel
     * holding pixels of several; the sums into y then go through an output of that layout ({@link #convByParts}).
     * A panel's columns are summed independently, so an image gets the same bits alone as end to end with others.
     * 1280 -> 1280 at 4x4 in a guided batch: 97-102 GFLOP/s against 56-59 with a panel per image.
     */
    private record ConvPanels(ConvShape shape, int batch, int pixels, int imagePixels) {

        /** These panels' images end to end where that leaves fewer panels, else these. */
        ConvPanels endToEndIfFewer() {
            int all = batch * pixels;
            return Math.ceilDiv(all, Gemm.NR) < count() ? new ConvPanels(shape, 1, all, pixels) : this;
        }

        boolean endToEnd() {
            return pixels != imagePixels;
        }

        int perImage() {
            return (pixels + Gemm.NR - 1) / Gemm.NR;
        }

        int count() {
            return batch * perImage();
        }

        int first(int g) {
            return g % perImage() * Gemm.NR;
        }

        int width(int g) {
            return Math.min(Gemm.NR, pixels - first(g));
        }

        /**
         * Packs rows {@code [k0, k0 + kc)} of panels {@code [g0, g1)}, panel g at {@code pack[at + (g - g0)·kc·NR]}:
         * one call per image, so that each input row is read in one run (1 KB for four panels, not four of 256
         * bytes: the 1x1 convolutions at 512x512, whose channel planes lie 1 MB apart, spent a third in packing).
         */
        void pack(float[] x, int g0, int g1, int k0, int kc, float[] pack, int at) {
            if (endToEnd()) {
                packEndToEnd(x, g0, g1, k0, kc, pack, at);
                return;
            }
            for (int g = g0; g < g1; ) {
                int image = g / perImage(), end = Math.min(g1, (image + 1) * perImage());
                int np = first(end - 1) + width(end - 1) - first(g);
                shape.pack(x, image * shape.inChannels() * shape.height() * shape.width(), k0, kc, first(g), np,
                        pack, at + (g - g0) * kc * Gemm.NR);
                g = end;
            }
        }

        /**
         * {@link #pack} for images end to end: each image's pixels in a panel are packed alone (ConvShape fills a
         * panel's rows to their end) and copied to their columns; the columns past the last pixel are zeros.
         */
        private void packEndToEnd(float[] x, int g0, int g1, int k0, int kc, float[] pack, int at) {
            float[] run = SCRATCH.get().run;
            int plane = shape.inChannels() * shape.height() * shape.width(), nr = Gemm.NR;
            for (int g = g0; g < g1; g++) {
                int dst = at + (g - g0) * kc * nr, p0 = first(g), p1 = p0 + width(g);
                for (int image = p0 / imagePixels; image * imagePixels < p1; image++) {
                    int from = Math.max(p0, image * imagePixels), to = Math.min(p1, (image + 1) * imagePixels);
                    shape.pack(x, image * plane, k0, kc, from - image * imagePixels, to - from, run, 0);
                    for (int k = 0; k < kc; k++) {
                        System.arraycopy(run, k * nr, pack, dst + k * nr + from - p0, to - from);
                    }
                }
                for (int k = 0; k < kc; k++) {
                    Arrays.fill(pack, dst + k * nr + p1 - p0, dst + (k + 1) * nr, 0);
                }
            }
        }

        /** Where element i of an end-to-end output, (channel, image·imagePixels + pixel), goes in y. */
        int yIndex(int i, int out) {
            int o = i / pixels, p = i % pixels;
            return (p / imagePixels * out + o) * imagePixels + p % imagePixels;
        }

        /** Where row {@code o} of panel g starts in y, whose images hold {@code out} channels. */
        int yAt(int g, int out, int o) {
            return ((g / perImage()) * out + o) * pixels + first(g);
        }
    }

    /**
     * A task is a block of PIXELS output pixels times a chunk of the output channels, and packs its own K blocks,
     * which stay in L2 while its channels run over them. With many pixels (the U-Net's 64x64 and 32x32 levels,
     * the VAE) a chunk is every channel; with few pixel blocks (the 1x1 and strided convolutions out at 16x16)
     * the channels are split too, so that each thread gets several tasks, and tasks of one pixel block each
     * pack it.
     */
    private static void convByBlocks(float[] x, ConvRows w, ConvPanels panels, float[] y) {
        int out = w.outChannels(), blockPanels = PIXELS / Gemm.NR, pBlocks = (panels.count() + blockPanels - 1) / blockPanels;
        int chunks = Math.max(1, Math.min((out + Gemm.MR - 1) / Gemm.MR, (4 * Parallel.threads() + pBlocks - 1) / pBlocks));
        int chunkRows = ((out + chunks - 1) / chunks + Gemm.MR - 1) / Gemm.MR * Gemm.MR;
        int mChunks = (out + chunkRows - 1) / chunkRows;
        Parallel.forRange(pBlocks * mChunks, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            for (int t = t0; t < t1; t++) {
                int o0 = t % mChunks * chunkRows, rows = Math.min(chunkRows, out - o0);
                int g0 = t / mChunks * blockPanels, g1 = Math.min(panels.count(), g0 + blockPanels);
                for (int k0 = 0; k0 < w.depth(); k0 += Gemm.KC) {
                    int kc = Math.min(Gemm.KC, w.depth() - k0);
                    panels.pack(x, g0, g1, k0, kc, s.pack, 0);
                    multiply(w, k0, kc, k0 == 0 ? Start.BIAS : Start.SUMS, o0, rows, panels, g0, g1, s.pack, 0, y, 0, s);
                }
            }
        });
    }

    /**
     * Images of at most {@link #FEW_PANELS} pixel panels (the 8x8 level): every weight serves only those pixels, so
     * the weights' stream sets the pace. The tasks split K into parts of at least {@link #PART_BLOCKS} K blocks,
     * each part one contiguous run of the weights (all output channels of each of its K blocks), which the
     * hardware prefetcher follows; split by output channels only, a task read a 40 KB piece of each K block,
     * hundreds of KB apart (1280 -> 1280 at 8x8 ran ~10% slower so, 2-34% in alternated runs). Part 0 sums into
     * y from the bias, the others into partial sums added to y in part order: the result depends on K alone.
     * Where parts are few, the output channels are split too, and then the im2col is packed once for all tasks
     * (packing it per task cost a 1x1 conv 2560 -> 1280 at 8x8 ~6%); a large batch goes {@link #PIXELS} at a
     * time. Small images end to end ({@link ConvPanels#endToEndIfFewer}) sum into a buffer of their layout, moved
     * to y with the parts' sums. None of this changes a sum.
     */
    private static void convByParts(float[] x, ConvRows w, ConvPanels panels, float[] y) {
        int out = w.outChannels(), kk = w.depth(), size = out * panels.pixels() * panels.batch();
        // As even as whole blocks allow, and none empty (169 blocks: 13 parts of 13, not 14 with the last empty).
        int kBlocks = Math.ceilDiv(kk, Gemm.KC), perPart = Math.ceilDiv(kBlocks, Math.max(1, kBlocks / PART_BLOCKS));
        int parts = Math.ceilDiv(kBlocks, perPart);
        int groupPanels = PIXELS / Gemm.NR, groups = Math.ceilDiv(panels.count(), groupPanels);
        int rowTiles = Math.ceilDiv(out, Gemm.MR);
        int wanted = Math.clamp(Math.ceilDiv(4 * Parallel.threads(), parts * groups), 1, rowTiles);
        int chunkRows = Math.ceilDiv(rowTiles, wanted) * Gemm.MR, chunks = Math.ceilDiv(out, chunkRows);
        float[] partial = partsBuffer(PARTIAL_SUMS, (parts - 1) * size);
        // Images end to end sum into an output of that layout, [out][images · pixels], moved to y at the end.
        boolean endToEnd = panels.endToEnd();
        float[] sums0 = endToEnd ? partsBuffer(END_TO_END, size) : y;
        // Shared: block b of the im2col at b·KC·stripe, its panel g at + g·kc·NR.
        int stripe = panels.count() * Gemm.NR;
        float[] shared = chunks > 1 && groups == 1 ? partsBuffer(SHARED_PACK, kk * stripe) : null;
        if (shared != null) {
            Parallel.forRange(kBlocks, (b0, b1) -> {
                for (int b = b0; b < b1; b++) {
                    int k0 = b * Gemm.KC;
                    panels.pack(x, 0, panels.count(), k0, Math.min(Gemm.KC, kk - k0), shared, k0 * stripe);
                }
            });
        }
        Parallel.forRange(parts * groups * chunks, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            for (int t = t0; t < t1; t++) {
                int part = t / (groups * chunks), g0 = t / chunks % groups * groupPanels;
                int g1 = Math.min(panels.count(), g0 + groupPanels), o0 = t % chunks * chunkRows, rows = Math.min(chunkRows, out - o0);
                float[] sums = part == 0 ? sums0 : partial;
                int at = part == 0 ? 0 : (part - 1) * size, first = part * perPart;
                for (int b = first; b < Math.min(kBlocks, first + perPart); b++) {
                    int k0 = b * Gemm.KC, kc = Math.min(Gemm.KC, kk - k0);
                    if (shared == null) {
                        panels.pack(x, g0, g1, k0, kc, s.pack, 0);
                    }
                    Start start = b > first ? Start.SUMS : part == 0 ? Start.BIAS : Start.ZERO;
                    multiply(w, k0, kc, start, o0, rows, panels, g0, g1, shared == null ? s.pack : shared,
                            shared == null ? 0 : k0 * stripe, sums, at, s);
                }
            }
        });
        if (parts > 1 || endToEnd) {
            Parallel.forRange(Math.ceilDiv(size, 4096), (c0, c1) -> {
                for (int i = c0 * 4096, end = Math.min(size, c1 * 4096); i < end; i++) {
                    float v = sums0[i];
                    for (int p = 1; p < parts; p++) {
                        v += partial[(p - 1) * size + i];
                    }
                    y[endToEnd ? panels.yIndex(i, out) : i] = v;
                }
            });
        }
    }

    /** What a K block's products are added to: the bias, zeros, or the sums of the blocks before it. */
    private enum Start { BIAS, ZERO, SUMS }

    /**
     * {@code y[o0:o0+rows, panels g0:g1] = start + W[o0:o0+rows, k0:k0+kc] · pack} for one K block, y's images
     * from {@code y[yOff]}, the panels packed from {@code pack[at]} on, panel g at {@code (g - g0)·kc·NR}; start is
     * the bias, zeros or y itself (a pass that first filled y with the bias cost ~6% of a 1x1 conv at 512x512).
     * A's rows go MC at a time, widened first when the weights are 16-bit, so that each widened block serves
     * every panel. F32 weights are copied to the same buffer where a block serves at most {@link #FEW_PANELS}
     * panels: alternated in one JVM, F32 1280 -> 1280 at 8x8 ran 255 against 205 GFLOP/s at batch 1 and 277
     * against 252 at batch 2, at 4x4 99 against 84, the 8x8 level's 1x1 2560 -> 1280 196 against 165; with
     * more panels per block (a 1x1 conv at 64x64) the copy cost ~5% and is skipped.
     */
    private static void multiply(ConvRows w, int k0, int kc, Start start, int o0, int rows, ConvPanels panels, int g0,
                                 int g1, float[] pack, int at, float[] y, int yOff, Scratch s) {
        int out = w.outChannels();
        for (int m0 = 0; m0 < rows; m0 += MC) {
            int mr = Math.min(MC, rows - m0);
            float[] a = w.w();
            int aOff = k0 * out + (o0 + m0) * kc;
            // F32 weights for one or two panels are copied too: read in place, each micro-kernel call waits on six
            // rows streaming from memory, where one sequential pass lets the prefetcher stream them.
            if (w.half() != null || g1 - g0 <= FEW_PANELS) {
                w.floats(aOff, mr * kc, s.wide, 0);
                a = s.wide;
                aOff = 0;
            }
            if (start == Start.BIAS) {
                Gemm.fillRows(s.bias, 0, Gemm.NR, mr, Gemm.NR, w.bias(), o0 + m0);
            }
            float[] from = switch (start) {
                case BIAS -> s.bias;
                case ZERO -> Gemm.ZERO;
                case SUMS -> y;
            };
            int fromStride = switch (start) {
                case BIAS -> Gemm.NR;
                case ZERO -> 0;
                case SUMS -> panels.pixels();
            };
            for (int g = g0; g < g1; g++) {
                int yAt = yOff + panels.yAt(g, out, o0 + m0);
                Gemm.panel(a, aOff, kc, mr, pack, at + (g - g0) * kc * Gemm.NR, kc, from, start == Start.SUMS ? yAt : 0,
                        fromStride, y, yAt, panels.pixels(), panels.width(g), s.tile);
            }
        }
    }
}
