package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;

/**
 * Tiled attention with an online softmax: the score matrix exists only as one KB x NR tile at a time.
 *
 * <p>Everything is transposed so that the NR queries of a block are the vector lanes: scores
 * {@code Sᵀ[key, query] = K · (scale·Q)ᵀ} and output {@code Oᵀ[dim, query] += Vᵀ · Pᵀ} are both the
 * {@link Gemm} micro-kernel over a packed A ({@link Gemm#packedPanel}: K and Vᵀ, packed once per head), and the
 * softmax statistics (running maximum, denominator) are vectors over the queries, updated key block by key block.
 */
final class FlashAttention {
    private static final int NR = Gemm.NR, L = Gemm.L, MR = Gemm.MR;
    /** Keys per block, a multiple of the micro-kernel's 6 rows. */
    private static final int KB = 96;
    private static final double LOG2E = 1.4426950408889634;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static {
        if (Gemm.NV != 4) { // tileMax spells out the four vectors of a panel row
            throw new AssertionError("FlashAttention.tileMax expects Gemm.NV = 4, not " + Gemm.NV);
        }
    }

    private FlashAttention() {
    }

    /** Per-thread buffers, grown on demand and kept. */
    private static final class Scratch {
        float[] qt = new float[0];      // (scale·Q)ᵀ of the block: [headDim][NR]
        float[] ot = new float[0];      // Oᵀ accumulator: [rows(headDim)][NR]
        float[] vt = new float[0];      // Vᵀ of the head by key block, packed: [keys/KB][rows(headDim)/MR][KB][MR]
        float[] kh = new float[0];      // K of the head, packed: [rows(keys)/MR][headDim][MR]
        final float[] s = new float[KB * NR]; // score / probability tile: [KB][NR]
        final float[] tile = new float[Gemm.MR * NR];
        final float[] max = new float[NR], sum = new float[NR], corr = new float[NR], m = new float[NR], total = new float[NR];

        void ensure(int headDim, int keys) {
            if (qt.length < headDim * NR) {
                qt = new float[headDim * NR];
                ot = new float[rows(headDim) * NR];
            }
            int blocks = (keys + KB - 1) / KB;
            if (vt.length < blocks * rows(headDim) * KB) {
                vt = new float[blocks * rows(headDim) * KB];
            }
            if (kh.length < rows(keys) * headDim) {
                kh = new float[rows(keys) * headDim];
            }
        }
    }

    /** n rounded up to whole micro-kernel tiles (headDim: so that Oᵀ += Vᵀ·Pᵀ never takes the edge path). */
    private static int rows(int n) {
        return (n + MR - 1) / MR * MR;
    }

    static void run(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int headDim,
                    float scale, boolean causal, float[] out) {
        // Scores in base 2: 2^(s·log2 e) = e^s, and the factor rides on the scale Q is multiplied by anyway.
        float scale2 = (float) (scale * LOG2E);
        int qBlocks = (queries + NR - 1) / NR;
        // A thread packs a head's K and Vᵀ once for its blocks of that head: with heads enough for every thread,
        // it keeps whole heads (splitting them cost 1-3% in repeated packs); else it shares them out by block.
        int grain = batch * heads >= 4 * Parallel.threads() ? qBlocks : 1;
        Parallel.forRange(batch * heads * qBlocks, grain, (t0, t1) -> {
            Scratch s = SCRATCH.get();
            s.ensure(headDim, keys);
            int packed = -1;
            for (int t = t0; t < t1; t++) {
                int bh = t / qBlocks, b = bh / heads, h = bh % heads;
                if (bh != packed) {
                    packVt(v, b, h, heads, keys, headDim, s.vt);
                    packK(k, b, h, heads, keys, headDim, s.kh);
                    packed = bh;
                }
                block(q, out, b, h, heads, queries, keys, headDim, scale2, causal, (t % qBlocks) * NR, s);
            }
        });
    }

    /**
     * Vᵀ in key blocks, packed for {@link Gemm#packedPanel}: {@code V[b, j, h, e]} at {@code (j / KB)·rows·KB +
     * (e / MR)·MR·KB + (j % KB)·MR + e % MR}, the rows past d zero. The A operand of {@code Oᵀ += Vᵀ·Pᵀ}.
     */
    private static void packVt(float[] v, int b, int h, int heads, int keys, int d, float[] vt) {
        int width = heads * d, rows = rows(d);
        for (int j0 = 0; j0 < keys; j0 += KB) {
            int base = j0 * rows;
            for (int j = j0; j < Math.min(keys, j0 + KB); j++) {
                int at = (b * keys + j) * width + h * d, to = base + (j - j0) * MR;
                for (int e = 0; e < rows; e++) {
                    vt[to + e / MR * MR * KB + e % MR] = e < d ? v[at + e] : 0;
                }
            }
        }
    }

    /**
     * The head's keys, packed for {@link Gemm#packedPanel}: key j's feature e at {@code (j / MR)·MR·d + e·MR +
     * j % MR}. The A operand of {@code Sᵀ = K·Qᵀ}, read once per query block; in place its rows are d of every
     * heads·d floats, and streaming a whole head's worth of those strided rows per block was slower.
     */
    private static void packK(float[] k, int b, int h, int heads, int keys, int d, float[] kh) {
        for (int j = 0; j < keys; j++) {
            int at = (b * keys + j) * heads * d + h * d, to = j / MR * MR * d + j % MR;
            for (int e = 0; e < d; e++) {
                kh[to + e * MR] = k[at + e];
            }
        }
    }

    /** Queries {@code [q0, q0 + NR)} of head h of batch element b, against the head's packed K and Vᵀ. */
    private static void block(float[] q, float[] out, int b, int h, int heads, int queries, int keys,
                              int d, float scale, boolean causal, int q0, Scratch s) {
        int width = heads * d, nq = Math.min(NR, queries - q0);
        packQt(q, (b * queries + q0) * width + h * d, width, d, scale, nq, s.qt);
        Arrays.fill(s.ot, 0, d * NR, 0);
        Arrays.fill(s.max, Float.NEGATIVE_INFINITY);
        Arrays.fill(s.sum, 0);
        // Causal: the block's last query sees keys up to q0 + nq - 1, no further.
        int kEnd = causal ? Math.min(keys, q0 + nq) : keys;
        for (int j0 = 0; j0 < kEnd; j0 += KB) {
            int kb = Math.min(KB, kEnd - j0);
            Gemm.packedPanel(s.kh, j0 * d, MR * d, kb, s.qt, 0, d, Gemm.ZERO, 0, 0, s.s, 0, NR, s.tile);
            if (causal && j0 + kb - 1 > q0) {
                mask(s.s, kb, j0 - q0);
            }
            if (softmaxTile(s.s, kb, s.max, s.sum, s.corr, s.m, s.total) && j0 > 0) {
                rescale(s.ot, d, s.corr);
            }
            Gemm.packedPanel(s.vt, j0 * rows(d), MR * KB, rows(d), s.s, 0, kb, s.ot, 0, NR, s.ot, 0, NR, s.tile);
        }
        for (int i = 0; i < nq; i++) {
            float inv = 1 / s.sum[i];
            int at = (b * queries + q0 + i) * width + h * d;
            for (int e = 0; e < d; e++) {
                out[at + e] = s.ot[e * NR + i] * inv;
            }
        }
    }

    /** {@code qt[e][i] = scale·Q[q0 + i, e]}, zero past nq; row by row of Q, reading each query's features in order. */
    private static void packQt(float[] q, int at, int width, int d, float scale, int nq, float[] qt) {
        for (int i = 0; i < NR; i++) {
            int from = at + i * width;
            for (int e = 0; e < d; e++) {
                qt[e * NR + i] = i < nq ? scale * q[from + e] : 0;
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
     * The online softmax over one key block: the running maximum per query, scores become probabilities
     * {@code 2^(s - max)}, the denominator is rescaled and extended. Returns whether some maximum grew, in which
     * case {@code corr} holds the factors the output accumulated so far must be multiplied by (when none grew
     * they are all exactly 1, and skipping the multiplication changes nothing).
     */
    private static boolean softmaxTile(float[] s, int kb, float[] max, float[] sum, float[] corr, float[] m, float[] total) {
        tileMax(s, kb, max, m);
        boolean grew = false;
        for (int c = 0; c < NR; c += L) {
            grew |= FloatVector.fromArray(Gemm.F, m, c).compare(VectorOperators.GT, FloatVector.fromArray(Gemm.F, max, c)).anyTrue();
        }
        for (int c = 0; c < NR; c += L) {
            expColumn(s, kb, c, m, total);
        }
        update(max, m, total, sum, corr, grew);
        return grew;
    }

    /**
     * {@code m = max(max, column maxima of the tile)}. The Gemm.NV = 4 vectors of a row at once, with separate
     * maxima for even and odd rows: each is a dependency chain, and one chain alone waits on the compare-blend
     * latency (the loop ran at a quarter of this speed with one vector column per pass). The maximum is a compare
     * and a blend ({@code max} would add NaN and signed-zero fix-ups), written out here rather than in a helper:
     * when C2 declined to inline such a helper, every vector it took or returned was boxed (gigabytes per step).
     */
    private static void tileMax(float[] s, int kb, float[] max, float[] m) {
        FloatVector m0 = FloatVector.fromArray(Gemm.F, max, 0), m1 = FloatVector.fromArray(Gemm.F, max, L);
        FloatVector m2 = FloatVector.fromArray(Gemm.F, max, 2 * L), m3 = FloatVector.fromArray(Gemm.F, max, 3 * L);
        FloatVector n0 = m0, n1 = m1, n2 = m2, n3 = m3, x;
        int j = 0;
        for (; j + 1 < kb; j += 2) {
            int a = j * NR, b = a + NR;
            x = FloatVector.fromArray(Gemm.F, s, a);
            m0 = m0.blend(x, m0.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, a + L);
            m1 = m1.blend(x, m1.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, a + 2 * L);
            m2 = m2.blend(x, m2.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, a + 3 * L);
            m3 = m3.blend(x, m3.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, b);
            n0 = n0.blend(x, n0.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, b + L);
            n1 = n1.blend(x, n1.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, b + 2 * L);
            n2 = n2.blend(x, n2.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, b + 3 * L);
            n3 = n3.blend(x, n3.compare(VectorOperators.LT, x));
        }
        if (j < kb) {
            int a = j * NR;
            x = FloatVector.fromArray(Gemm.F, s, a);
            m0 = m0.blend(x, m0.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, a + L);
            m1 = m1.blend(x, m1.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, a + 2 * L);
            m2 = m2.blend(x, m2.compare(VectorOperators.LT, x));
            x = FloatVector.fromArray(Gemm.F, s, a + 3 * L);
            m3 = m3.blend(x, m3.compare(VectorOperators.LT, x));
        }
        m0.blend(n0, m0.compare(VectorOperators.LT, n0)).intoArray(m, 0);
        m1.blend(n1, m1.compare(VectorOperators.LT, n1)).intoArray(m, L);
        m2.blend(n2, m2.compare(VectorOperators.LT, n2)).intoArray(m, 2 * L);
        m3.blend(n3, m3.compare(VectorOperators.LT, n3)).intoArray(m, 3 * L);
    }

    /**
     * Column {@code [c, c + L)} of the tile becomes {@code 2^(s - m)}, its sum over the keys goes to total. Arrays,
     * not vectors, cross the calls here: a vector passed to or returned from a method C2 did not inline is
     * allocated.
     */
    private static void expColumn(float[] s, int kb, int c, float[] m, float[] total) {
        FloatVector mc = FloatVector.fromArray(Gemm.F, m, c), t = FloatVector.zero(Gemm.F);
        for (int j = 0; j < kb; j++) {
            FloatVector p = VMath.exp2NonPositive(FloatVector.fromArray(Gemm.F, s, j * NR + c).sub(mc));
            p.intoArray(s, j * NR + c);
            t = t.add(p);
        }
        t.intoArray(total, c);
    }

    /** {@code sum = sum·corr + total} and {@code max = m}, with {@code corr = 2^(max - m)} only if some maximum grew. */
    private static void update(float[] max, float[] m, float[] total, float[] sum, float[] corr, boolean grew) {
        if (grew) {
            corrections(max, m, corr);
        }
        for (int c = 0; c < NR; c += L) {
            FloatVector l = FloatVector.fromArray(Gemm.F, sum, c);
            if (grew) {
                l = l.mul(FloatVector.fromArray(Gemm.F, corr, c));
            }
            l.add(FloatVector.fromArray(Gemm.F, total, c)).intoArray(sum, c);
            FloatVector.fromArray(Gemm.F, m, c).intoArray(max, c);
        }
    }

    /**
     * {@code corr = 2^(max - m)}, in a loop of its own: called a few times per tile, VMath's exp2 was not inlined
     * into {@link #update}, and its vector argument and result were boxed (hundreds of MB per U-Net step).
     */
    private static void corrections(float[] max, float[] m, float[] corr) {
        for (int c = 0; c < NR; c += L) {
            FloatVector d = FloatVector.fromArray(Gemm.F, max, c).sub(FloatVector.fromArray(Gemm.F, m, c));
            VMath.exp2NonPositive(d).intoArray(corr, c);
        }
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
