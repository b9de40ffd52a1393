package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The Vector API kernels. Each hot loop is a small static method with no mode flags, so that C2 inlines
 * every vector operation (a vector that escapes a non-inlined call is boxed, and a kernel becomes 10-100x
 * slower). Kernels not overridden here are the scalar ones: either C2 vectorises them already (F16
 * conversion, copies) or they are not on the hot path.
 */
public class VectorKernels extends ScalarKernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    public VectorKernels() {
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    /**
     * Linear weights packed into NR-wide panels: panel p holds {@code W[p·NR + j, k]} at {@code (p·in + k)·NR + j};
     * F32 in {@code panels}, or F16/BF16 weights in the same layout in {@code half} (the other is null).
     */
    record Panels(int inFeatures, int outFeatures, float[] panels, Half half, float[] bias) implements LinearWeights {
    }

    /**
     * Convolution weights {@code W[out, k]}, k in the im2col row order ({@link ConvShape#source}), in K blocks: block
     * {@code k0 = b·KC} holds {@code W[o, k0 + j]} at {@code k0·out + o·kc + j} (kc = the block's depth), so the
     * MC x KC block of A a task widens is one contiguous run, which the hardware prefetcher streams from memory
     * (96 short row pieces measured 10-14% slower at 8x8, where each weight serves few pixels). F32 in
     * {@code w}, or F16/BF16 in {@code half} (the other is null).
     */
    record ConvRows(int outChannels, int inChannels, int kernelHeight, int kernelWidth, float[] w, Half half, float[] bias)
            implements ConvWeights {

        /** K of the implicit GEMM: the weights per output channel. */
        int depth() {
            return inChannels * kernelHeight * kernelWidth;
        }

        /** {@code dst[at, at + depth)} = the weights of output channel {@code o} as F32, in K order. */
        void row(int o, float[] dst, int at) {
            int kk = depth();
            for (int k0 = 0; k0 < kk; k0 += Gemm.KC) {
                int kc = Math.min(Gemm.KC, kk - k0), from = k0 * outChannels + o * kc;
                if (half != null) {
                    half.widen(from, kc, dst, at + k0);
                } else {
                    System.arraycopy(w, from, dst, at + k0, kc);
                }
            }
        }
    }


    /** Rows of weights a convolution widens and runs at a time: the MC x KC block of A stays in L2. */
    private static final int MC = 96;
    /**
     * Rows of x per linear task: each widened 16-bit KC x NR panel slice serves them all, and their C block
     * (48 KB) stays in L2. Interleaved runs: 96 rows were 2-7% slower at the U-Net's 32x32 and 16x16 levels,
     * where widening took a tenth of a transformer block; 384 were up to 5% slower at 4096 rows.
     */
    private static final int LINEAR_ROWS = 192;
    /** Output pixels per convolution task: the packed activation block, KC x PIXELS floats, stays in L2. */
    private static final int PIXELS = 4 * Gemm.NR;

    /**
     * Per-thread buffers of the dense kernels, allocated once per thread: the packed im2col block, the F32 copy
     * of one block of 16-bit weights (a DEEP_KC x NR panel slice or MC x KC rows), the C tile of ragged edges, the
     * bias rows (MC x NR) a convolution's first K block starts from, and a GEGLU task's value and gate products
     * (LINEAR_ROWS x 2·NR).
     */
    private record Scratch(float[] pack, float[] wide, float[] tile, float[] bias, float[] products) {
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(
            new float[Gemm.KC * PIXELS], new float[Math.max(Gemm.DEEP_KC * Gemm.NR, Gemm.KC * MC)], new float[Gemm.MR * Gemm.NR],
            new float[MC * Gemm.NR], new float[LINEAR_ROWS * 2 * Gemm.NR]));

    /** Pixel panels per image up to which a convolution sums K in parts ({@link #convByParts}): the 8x8 level. */
    private static final int FEW_PANELS = 2;
    /**
     * K blocks per part of {@link #convByParts}, at least: a 1280-channel 3x3 conv (90 blocks) sums in 7 parts; K of
     * up to 23 blocks (the 1x1 convs at 8x8) in one, which measured 6-14% faster for 2560 -> 1280 than two parts.
     */
    private static final int PART_BLOCKS = 12;
    /** The calling thread's buffers for {@link #convByParts}: partial sums, and an im2col all its tasks share. */
    private static final ThreadLocal<float[][]> PARTS = ThreadLocal.withInitial(() -> new float[2][0]);
    private static final int PARTIAL_SUMS = 0, SHARED_PACK = 1;

    /** The calling thread's buffer {@code slot}, grown on demand to at least {@code n} floats. */
    private static float[] partsBuffer(int slot, int n) {
        float[][] holder = PARTS.get();
        if (holder[slot].length < n) {
            holder[slot] = new float[n];
        }
        return holder[slot];
    }

    @Override
    public void warmUp() {
        WarmUp.run(this);
    }

    // ---- weights ----

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        WeightData.checkLinear(weight, bias);
        int out = Math.toIntExact(weight.dim(0)), in = Math.toIntExact(weight.dim(1));
        int nr = Gemm.NR, count = (out + nr - 1) / nr;
        int size = Math.multiplyExact(count * in, nr);
        float[] biasF = WeightData.bias(bias, out, this);
        // The stored form is dropped as soon as it is packed: only the panels stay in memory.
        if (isHalf(weight)) {
            // Row by row: a full-size copy of the stored bits would double the load's peak for the largest weights.
            short[] row = new short[in], panels = new short[size];
            for (int o = 0; o < out; o++) {
                WeightData.bits(weight, (long) o * in, row);
                for (int k = 0; k < in; k++) {
                    panels[((o / nr) * in + k) * nr + o % nr] = row[k];
                }
            }
            return new Panels(in, out, null, new Half(panels, weight.dtype() == DType.BF16), biasF);
        }
        float[] w = WeightData.floats(weight, this), panels = new float[size];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < in; k++) {
                panels[((o / nr) * in + k) * nr + o % nr] = w[o * in + k];
            }
        }
        return new Panels(in, out, panels, null, biasF);
    }

    @Override
    public ConvWeights prepareConv(Tensor weight, Tensor bias) {
        WeightData.checkConv(weight, bias);
        int out = Math.toIntExact(weight.dim(0)), in = Math.toIntExact(weight.dim(1));
        int kh = Math.toIntExact(weight.dim(2)), kw = Math.toIntExact(weight.dim(3)), kk = in * kh * kw;
        float[] biasF = WeightData.bias(bias, out, this);
        int size = Math.multiplyExact(out, kk);
        int[] order = new int[kk];
        Arrays.setAll(order, k -> ConvShape.source(k, in, kh * kw));
        if (isHalf(weight)) {
            short[] row = new short[kk], ordered = new short[kk], blocks = new short[size];
            for (int o = 0; o < out; o++) {
                WeightData.bits(weight, (long) o * kk, row);
                for (int k = 0; k < kk; k++) {
                    ordered[k] = row[order[k]];
                }
                toBlocks(ordered, out, o, kk, blocks);
            }
            return new ConvRows(out, in, kh, kw, null, new Half(blocks, weight.dtype() == DType.BF16), biasF);
        }
        float[] w = WeightData.floats(weight, this), ordered = new float[kk], blocks = new float[size];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < kk; k++) {
                ordered[k] = w[o * kk + order[k]];
            }
            toBlocks(ordered, out, o, kk, blocks);
        }
        return new ConvRows(out, in, kh, kw, blocks, null, biasF);
    }

    /** Scatters row {@code o} ({@code kk} values in K order) into the K-block layout of {@link ConvRows}. */
    private static void toBlocks(Object row, int out, int o, int kk, Object blocks) {
        for (int k0 = 0; k0 < kk; k0 += Gemm.KC) {
            int kc = Math.min(Gemm.KC, kk - k0);
            System.arraycopy(row, k0, blocks, k0 * out + o * kc, kc);
        }
    }

    private static boolean isHalf(Tensor t) {
        return t.dtype() == DType.F16 || t.dtype() == DType.BF16;
    }

    // ---- dense ----

    /**
     * {@code y = x Wᵀ + b} as GEMM with A = x read in place and B = the weight panels, a task per block of rows and
     * panel ({@link #forEachPanel}) writing its rows x NR block of y.
     */
    @Override
    public void linear(float[] x, int rows, LinearWeights weights, float[] y) {
        Panels w = as(weights, Panels.class);
        int in = w.inFeatures, out = w.outFeatures;
        need(x, (long) rows * in, "linear input x");
        need(y, (long) rows * out, "linear output y");
        forEachPanel(rows, out, (m0, mr, p, s) -> panelProduct(x, m0, mr, w, p, y, m0 * out + p * Gemm.NR, out, s));
    }

    /**
     * GEGLU as one GEMM pass: a task computes the same panel of the value and of the gate projection into its own
     * block ({@code products}: each row's NR values, then its NR gates), still in L2, and writes {@code value ·
     * gelu(gate)} to y. The two-pass way wrote the 2n-wide projection to memory and read it back (84 MB for a
     * guided 512x512 image at the first level), then wrote y. Sums run as in {@link #linear}: each half is bit for
     * bit what {@code linear} gives.
     */
    @Override
    public void geglu(float[] x, int rows, LinearWeights value, LinearWeights gate, float[] y) {
        Panels v = as(value, Panels.class), g = as(gate, Panels.class);
        checkGeglu(v, g);
        int in = v.inFeatures, n = v.outFeatures, nr = Gemm.NR;
        need(x, (long) rows * in, "geglu input x");
        need(y, (long) rows * n, "geglu output y");
        forEachPanel(rows, n, (m0, mr, p, s) -> {
            panelProduct(x, m0, mr, v, p, s.products, 0, 2 * nr, s);
            panelProduct(x, m0, mr, g, p, s.products, nr, 2 * nr, s);
            int col0 = p * nr, cols = Math.min(nr, n - col0);
            for (int r = 0; r < mr; r++) {
                gegluRow(s.products, 2 * nr * r, 2 * nr * r + nr, cols, y, (m0 + r) * n + col0);
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
        int blockRows = Math.min(LINEAR_ROWS, (tiles + wanted - 1) / wanted * Gemm.MR);
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

    /**
     * Convolution as an implicit GEMM: {@code y[o, p] = b[o] + Σ_k W[o, k] · X[k, p]} with k one tap of one input
     * channel (in {@link ConvShape#source}'s order) and X the im2col matrix, packed a K block at a time into NR-wide panels over the pixels
     * of all images in turn (zeros where the kernel reaches past the border). One path serves 3x3, 1x1, stride 2
     * and asymmetric padding. Images of at most {@link #FEW_PANELS} panels sum K in parts ({@link #convByParts});
     * the choice is per image, and within each way every output element sums its K blocks in one fixed order, so
     * the result depends neither on the batch nor on the thread count.
     */
    @Override
    public void conv2d(float[] x, int batch, int height, int width, ConvWeights weights,
                       int stride, int padTop, int padLeft, int outHeight, int outWidth, float[] y) {
        ConvRows w = as(weights, ConvRows.class);
        checkConv(x, batch, height, width, w, stride, outHeight, outWidth, y);
        if (Winograd.suits(w, batch, height, width, stride, padTop, padLeft, outHeight, outWidth)) {
            Winograd.conv2d(x, batch, height, width, w, y);
            return;
        }
        ConvShape shape = new ConvShape(w.inChannels, height, width, w.kernelHeight, w.kernelWidth, stride, padTop, padLeft, outWidth);
        ConvPanels panels = new ConvPanels(shape, batch, outHeight * outWidth);
        if (panels.perImage() > FEW_PANELS) {
            convByBlocks(x, w, panels, y);
        } else {
            convByParts(x, w, panels, y);
        }
    }

    /**
     * The pixel panels of a convolution's output: {@code perImage} NR-wide panels per image, the last of each
     * image ragged, panel g covering pixels {@code [first(g), first(g) + width(g))} of image {@code g / perImage}.
     */
    private record ConvPanels(ConvShape shape, int batch, int pixels) {
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

        /** Packs rows {@code [k0, k0 + kc)} of panel g at {@code pack[at]}. */
        void pack(float[] x, int g, int k0, int kc, float[] pack, int at) {
            pack(x, g, g + 1, k0, kc, pack, at);
        }

        /**
         * Packs rows {@code [k0, k0 + kc)} of panels {@code [g0, g1)}, panel g at {@code pack[at + (g - g0)·kc·NR]}:
         * one call per image, so that each input row is read in one run (1 KB for four panels, not four of 256
         * bytes: the 1x1 convolutions at 512x512, whose channel planes lie 1 MB apart, spent a third in packing).
         */
        void pack(float[] x, int g0, int g1, int k0, int kc, float[] pack, int at) {
            for (int g = g0; g < g1; ) {
                int image = g / perImage(), end = Math.min(g1, (image + 1) * perImage());
                int np = first(end - 1) + width(end - 1) - first(g);
                shape.pack(x, image * shape.inChannels() * shape.height() * shape.width(), k0, kc, first(g), np,
                        pack, at + (g - g0) * kc * Gemm.NR);
                g = end;
            }
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
        int out = w.outChannels, blockPanels = PIXELS / Gemm.NR, pBlocks = (panels.count() + blockPanels - 1) / blockPanels;
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
     * time. None of this changes a sum.
     */
    private static void convByParts(float[] x, ConvRows w, ConvPanels panels, float[] y) {
        int out = w.outChannels, kk = w.depth(), size = out * panels.pixels() * panels.batch();
        // As even as whole blocks allow, and none empty (169 blocks: 13 parts of 13, not 14 with the last empty).
        int kBlocks = Math.ceilDiv(kk, Gemm.KC), perPart = Math.ceilDiv(kBlocks, Math.max(1, kBlocks / PART_BLOCKS));
        int parts = Math.ceilDiv(kBlocks, perPart);
        int groupPanels = PIXELS / Gemm.NR, groups = Math.ceilDiv(panels.count(), groupPanels);
        int rowTiles = Math.ceilDiv(out, Gemm.MR);
        int wanted = Math.clamp(Math.ceilDiv(4 * Parallel.threads(), parts * groups), 1, rowTiles);
        int chunkRows = Math.ceilDiv(rowTiles, wanted) * Gemm.MR, chunks = Math.ceilDiv(out, chunkRows);
        float[] partial = partsBuffer(PARTIAL_SUMS, (parts - 1) * size);
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
                float[] sums = part == 0 ? y : partial;
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
        if (parts > 1) {
            Parallel.forRange(Math.ceilDiv(size, 4096), (c0, c1) -> {
                for (int i = c0 * 4096, end = Math.min(size, c1 * 4096); i < end; i++) {
                    float v = y[i];
                    for (int p = 1; p < parts; p++) {
                        v += partial[(p - 1) * size + i];
                    }
                    y[i] = v;
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
     * every panel.
     */
    private static void multiply(ConvRows w, int k0, int kc, Start start, int o0, int rows, ConvPanels panels, int g0,
                                 int g1, float[] pack, int at, float[] y, int yOff, Scratch s) {
        int out = w.outChannels;
        for (int m0 = 0; m0 < rows; m0 += MC) {
            int mr = Math.min(MC, rows - m0);
            float[] a = w.w;
            int aOff = k0 * out + (o0 + m0) * kc;
            if (w.half != null) {
                w.half.widen(aOff, mr * kc, s.wide, 0);
                a = s.wide;
                aOff = 0;
            }
            if (start == Start.BIAS) {
                Gemm.fillRows(s.bias, 0, Gemm.NR, mr, Gemm.NR, w.bias, o0 + m0);
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

    @Override
    public void attention(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int headDim,
                          float scale, boolean causal, float[] out) {
        checkAttention(q, k, v, batch, heads, queries, keys, headDim, out);
        FlashAttention.run(q, k, v, batch, heads, queries, keys, headDim, scale, causal, out);
    }

    @Override
    public void softmax(float[] x, int rows, int cols) {
        need(x, (long) rows * cols, "softmax x");
        Parallel.forRange(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                softmaxRow(x, r * cols, cols);
            }
        });
    }

    // ---- normalisation ----

    @Override
    public void groupNorm(float[] x, int batch, int channels, int spatial, int groups, float eps,
                          float[] gamma, float[] beta, boolean silu, float[] y) {
        checkGroupNorm(x, batch, channels, spatial, groups, gamma, beta, y);
        int perGroup = channels / groups, n = perGroup * spatial;
        Parallel.forRange(batch * groups, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int at = t * n, c0 = (t % groups) * perGroup;
                float mean = (float) (sum(x, at, n) / n);
                float rstd = (float) (1 / Math.sqrt(squaredDeviations(x, at, n, mean) / n + eps));
                for (int c = 0; c < perGroup; c++) {
                    float a = rstd * (gamma == null ? 1 : gamma[c0 + c]);
                    float b = beta == null ? 0 : beta[c0 + c];
                    if (silu) {
                        affineSilu(x, at + c * spatial, spatial, mean, a, b, y);
                    } else {
                        affine(x, at + c * spatial, spatial, mean, a, b, y);
                    }
                }
            }
        });
    }

    @Override
    public void layerNorm(float[] x, int rows, int dim, float eps, float[] gamma, float[] beta, float[] y) {
        need2(x, y, (long) rows * dim, "layerNorm");
        checkAffine(gamma, beta, dim, "layerNorm");
        float[] g = gamma != null ? gamma : filled(dim, 1), b = beta != null ? beta : new float[dim];
        Parallel.forRange(rows, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int at = r * dim;
                float mean = (float) (sum(x, at, dim) / dim);
                float rstd = (float) (1 / Math.sqrt(squaredDeviations(x, at, dim, mean) / dim + eps));
                normalizeRow(x, at, dim, mean, rstd, g, b, y);
            }
        });
    }

    /** A doubled row's lanes: each value of a vector's first half twice, then each of its second half. */
    private static final VectorShuffle<Float> FIRST_HALF_TWICE = VectorShuffle.fromOp(F, i -> i / 2);
    private static final VectorShuffle<Float> SECOND_HALF_TWICE = VectorShuffle.fromOp(F, i -> (L + i) / 2);

    /**
     * Planes in parallel. An exact doubling (every upsampler of SD's U-Net and VAE) writes each output row from
     * vectors of its input row, each value twice, and copies it to the row below; other sizes take the scalar
     * index table. The VAE decoder's last one, 256 planes to 512x512, took 49 ms on one thread.
     */
    @Override
    public void upsampleNearest(float[] x, int planes, int height, int width, int outHeight, int outWidth, float[] y) {
        if (outHeight != 2 * height || outWidth != 2 * width) {
            super.upsampleNearest(x, planes, height, width, outHeight, outWidth, y);
            return;
        }
        need(x, (long) planes * height * width, "upsampleNearest x");
        need(y, (long) planes * outHeight * outWidth, "upsampleNearest y");
        Parallel.forRange(planes, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                for (int r = 0; r < height; r++) {
                    int to = (p * outHeight + 2 * r) * outWidth;
                    doubleRow(x, (p * height + r) * width, width, y, to);
                    System.arraycopy(y, to, y, to + outWidth, outWidth);
                }
            }
        });
    }

    /** {@code y[to + 2c] = y[to + 2c + 1] = x[from + c]} for c below width. */
    private static void doubleRow(float[] x, int from, int width, float[] y, int to) {
        int c = 0;
        for (; c + L <= width; c += L) {
            FloatVector v = FloatVector.fromArray(F, x, from + c);
            v.rearrange(FIRST_HALF_TWICE).intoArray(y, to + 2 * c);
            v.rearrange(SECOND_HALF_TWICE).intoArray(y, to + 2 * c + L);
        }
        for (; c < width; c++) {
            y[to + 2 * c] = x[from + c];
            y[to + 2 * c + 1] = x[from + c];
        }
    }

    /** Side of the square tiles a transposition moves at a time: a tile of x and one of y stay in L1. */
    private static final int TRANSPOSE_TILE = 32;

    /**
     * {@code [batch, channels, spatial] -> [batch, spatial, channels]} tile by tile: the plain loop writes y a
     * float per cache line and took 5% of a 64x64 transformer block. A task is a run of tokens, all channels.
     */
    @Override
    public void toTokens(float[] x, int batch, int channels, int spatial, float[] y) {
        need2(x, y, (long) batch * channels * spatial, "toTokens");
        int t = TRANSPOSE_TILE, runs = (spatial + t - 1) / t;
        Parallel.forRange(batch * runs, (t0, t1) -> {
            for (int task = t0; task < t1; task++) {
                int at = task / runs * channels * spatial, s0 = task % runs * t, s1 = Math.min(spatial, s0 + t);
                for (int c0 = 0; c0 < channels; c0 += t) {
                    transposeTile(x, y, at, channels, spatial, c0, Math.min(channels, c0 + t), s0, s1);
                }
            }
        });
    }

    private static void transposeTile(float[] x, float[] y, int at, int channels, int spatial, int c0, int c1, int s0, int s1) {
        for (int s = s0; s < s1; s++) {
            for (int c = c0; c < c1; c++) {
                y[at + s * channels + c] = x[at + c * spatial + s];
            }
        }
    }

    // ---- element-wise: parallel over chunks, each chunk one small vector loop with a masked tail ----

    /** Elements per parallel task of an element-wise kernel: enough to amortise the hand-off. */
    private static final int CHUNK = 1 << 15;

    private static void elements(long n, Parallel.Range range) {
        int count = Math.toIntExact(n);
        Parallel.forRange((count + CHUNK - 1) / CHUNK, (c0, c1) -> range.run(c0 * CHUNK, Math.min(count, c1 * CHUNK)));
    }

    @Override
    public void silu(float[] x, int n, float[] y) {
        need2(x, y, n, "silu");
        elements(n, (from, to) -> silu(x, from, to, y));
    }

    @Override
    public void gelu(float[] x, int n, float[] y) {
        need2(x, y, n, "gelu");
        elements(n, (from, to) -> gelu(x, from, to, y));
    }

    @Override
    public void geluTanh(float[] x, int n, float[] y) {
        need2(x, y, n, "geluTanh");
        elements(n, (from, to) -> geluTanh(x, from, to, y));
    }

    @Override
    public void quickGelu(float[] x, int n, float[] y) {
        need2(x, y, n, "quickGelu");
        elements(n, (from, to) -> quickGelu(x, from, to, y));
    }

    @Override
    public void add(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "add");
        need(y, n, "add y");
        elements(n, (from, to) -> add(a, b, from, to, y));
    }

    @Override
    public void mul(float[] a, float[] b, int n, float[] y) {
        need2(a, b, n, "mul");
        need(y, n, "mul y");
        elements(n, (from, to) -> mul(a, b, from, to, y));
    }

    @Override
    public void scale(float[] x, float s, int n, float[] y) {
        need2(x, y, n, "scale");
        elements(n, (from, to) -> affine(x, from, to - from, 0, s, 0, y));
    }

    @Override
    public void addChannelBias(float[] x, int batch, int channels, int spatial, float[] bias) {
        need(x, (long) batch * channels * spatial, "addChannelBias x");
        need(bias, (long) batch * channels, "addChannelBias bias");
        Parallel.forRange(batch * channels, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                affine(x, p * spatial, spatial, 0, 1, bias[p], x);
            }
        });
    }

    // ---- the hot loops, one small static method each (see the class comment) ----

    /**
     * Σ x[at, at+n) in float vectors over blocks of 1024, the block totals added in double: accurate and
     * fixed-order. Four accumulators, so that the adds do not wait on each other's latency: with one, GroupNorm's
     * two statistics passes were each one dependency chain (GroupNorm+SiLU on 320x64x64 3-6% faster with four,
     * batch 1 and 2, alternated in one JVM).
     */
    static double sum(float[] x, int at, int n) {
        double total = 0;
        for (int b = 0; b < n; b += 1024) {
            int end = at + Math.min(n, b + 1024);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = at + b;
            for (; i + 4 * L <= end; i += 4 * L) {
                a0 = a0.add(FloatVector.fromArray(F, x, i));
                a1 = a1.add(FloatVector.fromArray(F, x, i + L));
                a2 = a2.add(FloatVector.fromArray(F, x, i + 2 * L));
                a3 = a3.add(FloatVector.fromArray(F, x, i + 3 * L));
            }
            for (; i < end; i += L) {
                a0 = a0.add(FloatVector.fromArray(F, x, i, F.indexInRange(i, end)));
            }
            total += VMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        }
        return total;
    }

    /** Σ (x - mean)² over {@code [at, at+n)}, blocked and unrolled like {@link #sum}. */
    static double squaredDeviations(float[] x, int at, int n, float mean) {
        double total = 0;
        for (int b = 0; b < n; b += 1024) {
            int end = at + Math.min(n, b + 1024);
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int i = at + b;
            for (; i + 4 * L <= end; i += 4 * L) {
                FloatVector d0 = FloatVector.fromArray(F, x, i).sub(mean);
                FloatVector d1 = FloatVector.fromArray(F, x, i + L).sub(mean);
                FloatVector d2 = FloatVector.fromArray(F, x, i + 2 * L).sub(mean);
                FloatVector d3 = FloatVector.fromArray(F, x, i + 3 * L).sub(mean);
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
                a2 = d2.fma(d2, a2);
                a3 = d3.fma(d3, a3);
            }
            for (; i < end; i += L) {
                var m = F.indexInRange(i, end);
                FloatVector d = FloatVector.fromArray(F, x, i, m).sub(mean).blend(0f, m.not());
                a0 = d.fma(d, a0);
            }
            total += VMath.sumLanes(a0.add(a1).add(a2.add(a3)));
        }
        return total;
    }

    /**
     * {@code y = (x - mean)·a + b} over {@code [at, at+n)}. Subtracting the mean first, not folding it into b,
     * keeps a group of near-constant values (tiny variance, huge a) from cancelling catastrophically.
     */
    static void affine(float[] x, int at, int n, float mean, float a, float b, float[] y) {
        int i = at, end = at + n;
        for (; i + L <= end; i += L) {
            FloatVector.fromArray(F, x, i).sub(mean).fma(a, b).intoArray(y, i);
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            FloatVector.fromArray(F, x, i, m).sub(mean).fma(a, b).intoArray(y, i, m);
        }
    }

    /** {@code y = silu((x - mean)·a + b)} over {@code [at, at+n)}: GroupNorm's affine step fused with the activation. */
    static void affineSilu(float[] x, int at, int n, float mean, float a, float b, float[] y) {
        int i = at, end = at + n;
        for (; i + L <= end; i += L) {
            VMath.silu(FloatVector.fromArray(F, x, i).sub(mean).fma(a, b)).intoArray(y, i);
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            VMath.silu(FloatVector.fromArray(F, x, i, m).sub(mean).fma(a, b)).intoArray(y, i, m);
        }
    }

    static void normalizeRow(float[] x, int at, int dim, float mean, float rstd, float[] g, float[] b, float[] y) {
        int j = 0;
        for (; j + L <= dim; j += L) {
            FloatVector v = FloatVector.fromArray(F, x, at + j).sub(mean).mul(rstd);
            v.fma(FloatVector.fromArray(F, g, j), FloatVector.fromArray(F, b, j)).intoArray(y, at + j);
        }
        if (j < dim) {
            var m = F.indexInRange(j, dim);
            FloatVector v = FloatVector.fromArray(F, x, at + j, m).sub(mean).mul(rstd);
            v.fma(FloatVector.fromArray(F, g, j, m), FloatVector.fromArray(F, b, j, m)).intoArray(y, at + j, m);
        }
    }

    static void softmaxRow(float[] x, int at, int n) {
        int end = at + n, i;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (i = at; i + L <= end; i += L) {
            mv = mv.max(FloatVector.fromArray(F, x, i));
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            mv = mv.max(FloatVector.fromArray(F, x, i, m).blend(Float.NEGATIVE_INFINITY, m.not()));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        FloatVector total = FloatVector.zero(F);
        for (i = at; i + L <= end; i += L) {
            FloatVector e = VMath.exp(FloatVector.fromArray(F, x, i).sub(max));
            e.intoArray(x, i);
            total = total.add(e);
        }
        if (i < end) {
            var m = F.indexInRange(i, end);
            FloatVector e = VMath.exp(FloatVector.fromArray(F, x, i, m).sub(max)).blend(0f, m.not());
            e.intoArray(x, i, m);
            total = total.add(e);
        }
        affine(x, at, n, 0, 1 / VMath.sumLanes(total), 0, x);
    }

    static void silu(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            VMath.silu(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            VMath.silu(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    static void gelu(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            VMath.gelu(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            VMath.gelu(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    static void geluTanh(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            VMath.geluTanh(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            VMath.geluTanh(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    static void quickGelu(float[] x, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.div(VMath.exp(v.mul(-1.702f)).add(1f)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(F, x, i, m);
            v.div(VMath.exp(v.mul(-1.702f)).add(1f)).intoArray(y, i, m);
        }
    }

    /** One row: {@code y[yAt + j] = c[valueAt + j] · gelu(c[gateAt + j])} for j below n. */
    static void gegluRow(float[] c, int valueAt, int gateAt, int n, float[] y, int yAt) {
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector g = VMath.gelu(FloatVector.fromArray(F, c, gateAt + j));
            FloatVector.fromArray(F, c, valueAt + j).mul(g).intoArray(y, yAt + j);
        }
        if (j < n) {
            var m = F.indexInRange(j, n);
            FloatVector g = VMath.gelu(FloatVector.fromArray(F, c, gateAt + j, m));
            FloatVector.fromArray(F, c, valueAt + j, m).mul(g).intoArray(y, yAt + j, m);
        }
    }

    static void add(float[] a, float[] b, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            FloatVector.fromArray(F, a, i, m).add(FloatVector.fromArray(F, b, i, m)).intoArray(y, i, m);
        }
    }

    static void mul(float[] a, float[] b, int from, int to, float[] y) {
        int i = from;
        for (; i + L <= to; i += L) {
            FloatVector.fromArray(F, a, i).mul(FloatVector.fromArray(F, b, i)).intoArray(y, i);
        }
        if (i < to) {
            var m = F.indexInRange(i, to);
            FloatVector.fromArray(F, a, i, m).mul(FloatVector.fromArray(F, b, i, m)).intoArray(y, i, m);
        }
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, value);
        return a;
    }

    // ---- conversion ----

    /** bf16 is the top half of a float: zero-extend each 16-bit pattern to 32 bits and shift it up. */
    @Override
    public void bf16ToF32(short[] x, int n, float[] y) {
        need(x, n, "bf16ToF32 x");
        need(y, n, "bf16ToF32 y");
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            ShortVector.fromArray(S, x, i)
                    .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats()
                    .intoArray(y, i);
        }
        for (; i < n; i++) {
            y[i] = Float.intBitsToFloat((x[i] & 0xffff) << 16);
        }
    }
}
