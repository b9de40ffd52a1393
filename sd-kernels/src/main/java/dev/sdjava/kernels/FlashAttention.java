package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

/**
 * Tiled attention with an online softmax: the score matrix exists only as one KB x NR tile at a time.
 *
 * <p>Everything is transposed so that the NR queries of a block are the vector lanes: scores
 * {@code Sᵀ[key, query] = K · (scale·Q)ᵀ} and output {@code Oᵀ[dim, query] += Vᵀ · Pᵀ} are both the
 * {@link Gemm} micro-kernel (A = K rows read in place, and Vᵀ packed once per head), and the softmax
 * statistics (running maximum, denominator) are vectors over the queries, updated key block by key block.
 */
final class FlashAttention {
    private static final int NR = Gemm.NR, L = Gemm.L;
    /** Keys per block, a multiple of the micro-kernel's 6 rows. */
    private static final int KB = 96;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private FlashAttention() {
    }

    /** Per-thread buffers, grown on demand and kept. */
    private static final class Scratch {
        float[] qt = new float[0];      // (scale·Q)ᵀ of the block: [headDim][NR]
        float[] ot = new float[0];      // Oᵀ accumulator: [rows(headDim)][NR]
        float[] vt = new float[0];      // Vᵀ of the head by key block: [keys/KB][rows(headDim)][KB], rows past headDim zero
        final float[] s = new float[KB * NR]; // score / probability tile: [KB][NR]
        final float[] tile = new float[Gemm.MR * NR];
        final float[] max = new float[NR], sum = new float[NR], corr = new float[NR];

        void ensure(int headDim, int keys) {
            if (qt.length < headDim * NR) {
                qt = new float[headDim * NR];
                ot = new float[rows(headDim) * NR];
            }
            int blocks = (keys + KB - 1) / KB;
            if (vt.length < blocks * rows(headDim) * KB) {
                vt = new float[blocks * rows(headDim) * KB];
            }
        }
    }

    /** headDim rounded up to whole micro-kernel tiles, so that Oᵀ += Vᵀ·Pᵀ never takes the slow edge path. */
    private static int rows(int headDim) {
        return (headDim + Gemm.MR - 1) / Gemm.MR * Gemm.MR;
    }

    static void run(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int headDim,
                    float scale, boolean causal, float[] out) {
        int qBlocks = (queries + NR - 1) / NR;
        Parallel.forRange(batch * heads * qBlocks, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            s.ensure(headDim, keys);
            int packed = -1;
            for (int t = t0; t < t1; t++) {
                int bh = t / qBlocks, b = bh / heads, h = bh % heads;
                if (bh != packed) {
                    packVt(v, b, h, heads, keys, headDim, s.vt);
                    packed = bh;
                }
                block(q, k, out, b, h, heads, queries, keys, headDim, scale, causal, (t % qBlocks) * NR, s);
            }
        });
    }

    /**
     * Vᵀ in key blocks, {@code V[b, j, h, e]} at {@code ((j / KB)·rows + e)·KB + j % KB}: the A operand of
     * {@code Oᵀ += Vᵀ·Pᵀ} with rows KB floats apart (a whole-head Vᵀ puts them keys·4 bytes apart, a multiple
     * of 4 KiB at SD sizes, and every row of a tile then lands in the same L1 set).
     */
    private static void packVt(float[] v, int b, int h, int heads, int keys, int d, float[] vt) {
        int width = heads * d, rows = rows(d);
        for (int j0 = 0; j0 < keys; j0 += KB) {
            int base = j0 * rows;
            for (int j = j0; j < Math.min(keys, j0 + KB); j++) {
                int at = (b * keys + j) * width + h * d;
                for (int e = 0; e < d; e++) {
                    vt[base + e * KB + j - j0] = v[at + e];
                }
            }
            Arrays.fill(vt, base + d * KB, base + rows * KB, 0);
        }
    }

    /** Queries {@code [q0, q0 + NR)} of head h of batch element b. */
    private static void block(float[] q, float[] k, float[] out, int b, int h, int heads, int queries, int keys,
                              int d, float scale, boolean causal, int q0, Scratch s) {
        int width = heads * d, nq = Math.min(NR, queries - q0);
        for (int e = 0; e < d; e++) {
            for (int i = 0; i < NR; i++) {
                s.qt[e * NR + i] = i < nq ? scale * q[(b * queries + q0 + i) * width + h * d + e] : 0;
            }
        }
        Arrays.fill(s.ot, 0, d * NR, 0);
        Arrays.fill(s.max, Float.NEGATIVE_INFINITY);
        Arrays.fill(s.sum, 0);
        // Causal: the block's last query sees keys up to q0 + nq - 1, no further.
        int kEnd = causal ? Math.min(keys, q0 + nq) : keys;
        for (int j0 = 0; j0 < kEnd; j0 += KB) {
            int kb = Math.min(KB, kEnd - j0);
            Arrays.fill(s.s, 0, kb * NR, 0);
            Gemm.panel(k, (b * keys + j0) * width + h * d, width, kb, s.qt, 0, d, s.s, 0, NR, NR, s.tile);
            if (causal && j0 + kb - 1 > q0) {
                mask(s.s, kb, j0 - q0);
            }
            for (int c = 0; c < NR; c += L) {
                softmaxColumns(s.s, kb, c, s.max, s.sum, s.corr);
            }
            rescale(s.ot, d, s.corr);
            Gemm.panel(s.vt, j0 * rows(d), KB, rows(d), s.s, 0, kb, s.ot, 0, NR, NR, s.tile);
        }
        for (int i = 0; i < nq; i++) {
            float inv = 1 / s.sum[i];
            int at = (b * queries + q0 + i) * width + h * d;
            for (int e = 0; e < d; e++) {
                out[at + e] = s.ot[e * NR + i] * inv;
            }
        }
    }

    /** Hides key {@code j} from query {@code i} where {@code j + offset > i} (offset = first key - first query). */
    private static void mask(float[] s, int kb, int offset) {
        for (int j = 0; j < kb; j++) {
            for (int i = 0, end = Math.min(NR, j + offset); i < end; i++) {
                s[j * NR + i] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * One vector of query columns {@code [c, c + L)} through the online softmax: new maximum over this key
     * block, scores become probabilities {@code exp(s - max)}, the denominator is rescaled and extended, and
     * {@code corr} receives the factor the output accumulated so far must be multiplied by.
     */
    private static void softmaxColumns(float[] s, int kb, int c, float[] max, float[] sum, float[] corr) {
        FloatVector old = FloatVector.fromArray(Gemm.F, max, c);
        FloatVector m = old;
        for (int j = 0; j < kb; j++) {
            m = m.max(FloatVector.fromArray(Gemm.F, s, j * NR + c));
        }
        FloatVector total = FloatVector.zero(Gemm.F);
        for (int j = 0; j < kb; j++) {
            FloatVector p = FloatVector.fromArray(Gemm.F, s, j * NR + c).sub(m);
            p = VMath.expNonPositive(p);
            p.intoArray(s, j * NR + c);
            total = total.add(p);
        }
        FloatVector f = VMath.expNonPositive(old.sub(m));
        f.intoArray(corr, c);
        FloatVector.fromArray(Gemm.F, sum, c).fma(f, total).intoArray(sum, c);
        m.intoArray(max, c);
    }

    private static void rescale(float[] ot, int d, float[] corr) {
        for (int c = 0; c < NR; c += L) {
            FloatVector f = FloatVector.fromArray(Gemm.F, corr, c);
            for (int e = 0; e < d; e++) {
                FloatVector.fromArray(Gemm.F, ot, e * NR + c).mul(f).intoArray(ot, e * NR + c);
            }
        }
    }
}
