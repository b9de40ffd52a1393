package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked core every dense kernel shares: {@code C[rows, NR] = S + A[rows, k0:k0+kc] · B}, S being C
 * itself (accumulate) or one row to start from (a bias, zeros), where {@code B} is one packed panel, {@code kc}
 * rows of {@code NR} contiguous floats. A is read in place (row-major, one scalar broadcast per row and k), or,
 * where the kernel lays A out itself anyway (attention's K and Vᵀ), packed six rows interleaved per k
 * ({@link #packedPanel}); B is the panel the caller packed: weights once at load (linear) or activations per
 * block (convolution, an implicit im2col).
 *
 * <p>The micro-kernel keeps an {@code MR x NR} tile of C in {@code MR·NV} vector registers (6 x 4 vectors:
 * 24 of AVX-512's 32; with 16 registers, two halves of 6 x 2 in turn) and does {@code MR·NV} independent FMAs
 * per k. Each element of C accumulates in k ascending order whatever thread or tile computes it (a K block's
 * sums are stored and reloaded exactly, so the block depth regroups nothing either), so results are identical
 * for any thread count, tiling and depth.
 */
final class Gemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** Rows of C per micro-kernel call. */
    static final int MR = 6;
    /** Vectors per row of the C tile, and the panel width in floats. */
    static final int NV = 4;
    static final int NR = NV * L;
    /**
     * Whether {@link #micro} runs its tile as two halves of 6 x 2 vectors: x86 below AVX-512 has 16 vector
     * registers, where the whole tile's 24 accumulators, 4 panel vectors and broadcast spill on every k. Under
     * -XX:UseAVX=2 here (8 lanes, 16 registers) the halves ran the micro-kernel in L1 at 96-107 GFLOP/s on one
     * thread against 57-60 for the whole tile, and a guided 256x256 U-Net step in 2.15 s against 3.13 s.
     * The JVM offers 512 bits wherever AVX-512 is on; only one told -XX:MaxVectorSize=32 keeps 32 registers at 256
     * bits, and there the halves cost linear layers 5-12%.
     */
    static final boolean HALVES = x86() && F.vectorBitSize() < 512;
    /**
     * Depth of one K block of the im2col convolutions: an NR-wide panel slice of KC rows is reused across all rows
     * of a block, and at 128 (32 KB with 16 lanes) it stays in L1 beside A's rows; 256 (64 KB) streamed from L2,
     * ~8% slower.
     */
    static final int KC = 128;
    /**
     * Deepest K block of a product whose B panel is already in L2 and used by many row tiles (a linear layer's
     * widened weights, Winograd's transformed input): K is split into equal blocks no deeper ({@link #deepBlock}).
     * The panel slice streams from L2 (160 KB at 640), but C's tiles go back to memory once per 640 of K instead
     * of per 128, and no shallow last block is left. Alternated in one JVM (medians of 10 rounds each), against
     * {@link #KC}-deep blocks: linear layers at SD's shapes 2-4% faster, Winograd convolutions 2-7%; whole K,
     * against 640: 8% slower where K is 1920 or more (and 15% for a 5120-wide linear), no faster below.
     */
    static final int DEEP_KC = 640;

    private Gemm() {
    }

    private static boolean x86() {
        String arch = System.getProperty("os.arch", "");
        return arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x86") || arch.equals("i386");
    }

    /** A row of zeros to start C from, with a row stride of 0: {@code C = A·B} with no pass that clears C first. */
    static final float[] ZERO = new float[NR];

    /** {@code C += A·B}: the panel below, started from C itself. */
    static void panel(float[] a, int aOff, int lda, int rows, float[] b, int bOff, int kc,
                      float[] c, int cOff, int ldc, int cols, float[] tile) {
        panel(a, aOff, lda, rows, b, bOff, kc, c, cOff, ldc, c, cOff, ldc, cols, tile);
    }

    /**
     * {@code C[r, 0:cols] = S[r, 0:cols] + Σ_k A[r, k] · panel[k, 0:cols]} for {@code rows} rows; row r of A starts
     * at {@code aOff + r·lda}, of the start S at {@code sOff + r·lds}, of C at {@code cOff + r·ldc}. S is C itself
     * to accumulate, or one row (a bias, {@link #ZERO}) with {@code lds = 0} to start C afresh: a separate pass that
     * first fills C cost up to 8% of a linear layer whose output does not fit in cache. Full 6-row, NR-column tiles
     * go straight to the micro-kernel; ragged edges go through {@code tile} (MR·NR floats), with A's missing rows
     * repeated.
     */
    static void panel(float[] a, int aOff, int lda, int rows, float[] b, int bOff, int kc,
                      float[] start, int sOff, int lds, float[] c, int cOff, int ldc, int cols, float[] tile) {
        int r = 0;
        if (cols == NR) {
            for (; r + MR <= rows; r += MR) {
                int a0 = aOff + r * lda;
                micro(a, a0, a0 + lda, a0 + 2 * lda, a0 + 3 * lda, a0 + 4 * lda, a0 + 5 * lda,
                        b, bOff, kc, start, sOff + r * lds, lds, c, cOff + r * ldc, ldc);
            }
        }
        for (; r < rows; r += MR) {
            int n = Math.min(MR, rows - r);
            edgeStart(start, sOff + r * lds, lds, n, cols, tile);
            int a0 = aOff + r * lda, last = n - 1;
            micro(a, a0, a0 + Math.min(1, last) * lda, a0 + Math.min(2, last) * lda, a0 + Math.min(3, last) * lda,
                    a0 + Math.min(4, last) * lda, a0 + Math.min(5, last) * lda, b, bOff, kc, tile, 0, NR, tile, 0, NR);
            edgeStore(tile, n, cols, c, cOff + r * ldc, ldc);
        }
    }

    /** A ragged tile's start: rows {@code [0, n)} and columns {@code [0, cols)} of S, zeros in the rest of the tile. */
    private static void edgeStart(float[] start, int sOff, int lds, int n, int cols, float[] tile) {
        for (int i = 0; i < MR; i++) {
            for (int j = 0; j < NR; j++) {
                tile[i * NR + j] = i < n && j < cols ? start[sOff + i * lds + j] : 0;
            }
        }
    }

    /** A ragged tile's result: rows {@code [0, n)} and columns {@code [0, cols)} of the tile to C. */
    private static void edgeStore(float[] tile, int n, int cols, float[] c, int cOff, int ldc) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(tile, i * NR, c, cOff + i * ldc, cols);
        }
    }

    /** The depth of each of the equal K blocks, none deeper than {@link #DEEP_KC}, that split K = {@code depth}. */
    static int deepBlock(int depth) {
        return Math.ceilDiv(depth, Math.ceilDiv(depth, DEEP_KC));
    }

    /**
     * {@code C = S + A[rows, 0:depth] · B} over all of K, a {@link #deepBlock} at a time: the first block starts
     * from S, the others accumulate. B is {@code depth} rows of NR floats from {@code bOff}.
     */
    static void product(float[] a, int aOff, int lda, int rows, float[] b, int bOff, int depth,
                        float[] start, int sOff, int lds, float[] c, int cOff, int ldc, int cols, float[] tile) {
        int block = deepBlock(depth);
        for (int k0 = 0; k0 < depth; k0 += block) {
            int kc = Math.min(block, depth - k0);
            if (k0 == 0) {
                panel(a, aOff, lda, rows, b, bOff, kc, start, sOff, lds, c, cOff, ldc, cols, tile);
            } else {
                panel(a, aOff + k0, lda, rows, b, bOff + k0 * NR, kc, c, cOff, ldc, cols, tile);
            }
        }
    }

    /**
     * The 6 x NR register tile, loaded from S and stored to C: per k, NV panel loads, 6 broadcasts and 24 FMAs.
     * The k loop takes two k per pass. On an Intel Xeon (Cascade Lake, AVX-512; its two FMA ports also run
     * integer work) that made linear layers 4-22% faster, attention 7-13% and convolutions up to 16% (alternated
     * JVMs, the same bits; the 8x8 convolution, whose weights stream from memory, 0-7%), the micro-kernel in L1
     * 95-105 GFLOP/s on one thread against 85-93; not yet measured on the AMD Zen 5 of the README's figures.
     * The loop's form matters to C2: written as a counted loop ({@code k < kc - 1}), it was unrolled further and
     * spilled accumulators, no faster than one k per pass; with the second k under an {@code if} inside the
     * loop, 1-10% slower than one k per pass. Where C2 has 16 registers, {@link #half} keeps one k per pass:
     * unrolled, it ran 3-21% slower under -XX:UseAVX=2.
     */
    static void micro(float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                      float[] b, int bOff, int kc, float[] start, int t0, int lds, float[] c, int c0, int ldc) {
        if (HALVES) {
            half(a, a0, a1, a2, a3, a4, a5, b, bOff, kc, start, t0, lds, c, c0, ldc);
            half(a, a0, a1, a2, a3, a4, a5, b, bOff + 2 * L, kc, start, t0 + 2 * L, lds, c, c0 + 2 * L, ldc);
            return;
        }
        int t1 = t0 + lds, t2 = t1 + lds, t3 = t2 + lds, t4 = t3 + lds, t5 = t4 + lds;
        FloatVector s00 = FloatVector.fromArray(F, start, t0), s01 = FloatVector.fromArray(F, start, t0 + L);
        FloatVector s02 = FloatVector.fromArray(F, start, t0 + 2 * L), s03 = FloatVector.fromArray(F, start, t0 + 3 * L);
        FloatVector s10 = FloatVector.fromArray(F, start, t1), s11 = FloatVector.fromArray(F, start, t1 + L);
        FloatVector s12 = FloatVector.fromArray(F, start, t1 + 2 * L), s13 = FloatVector.fromArray(F, start, t1 + 3 * L);
        FloatVector s20 = FloatVector.fromArray(F, start, t2), s21 = FloatVector.fromArray(F, start, t2 + L);
        FloatVector s22 = FloatVector.fromArray(F, start, t2 + 2 * L), s23 = FloatVector.fromArray(F, start, t2 + 3 * L);
        FloatVector s30 = FloatVector.fromArray(F, start, t3), s31 = FloatVector.fromArray(F, start, t3 + L);
        FloatVector s32 = FloatVector.fromArray(F, start, t3 + 2 * L), s33 = FloatVector.fromArray(F, start, t3 + 3 * L);
        FloatVector s40 = FloatVector.fromArray(F, start, t4), s41 = FloatVector.fromArray(F, start, t4 + L);
        FloatVector s42 = FloatVector.fromArray(F, start, t4 + 2 * L), s43 = FloatVector.fromArray(F, start, t4 + 3 * L);
        FloatVector s50 = FloatVector.fromArray(F, start, t5), s51 = FloatVector.fromArray(F, start, t5 + L);
        FloatVector s52 = FloatVector.fromArray(F, start, t5 + 2 * L), s53 = FloatVector.fromArray(F, start, t5 + 3 * L);
        // Two k per pass (see the javadoc), each in a block of its own so that its panel vectors die with it; an odd
        // depth leaves its last k to the two halves below.
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            {
                int bk = bOff + k * NR;
                FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + L);
                FloatVector b2 = FloatVector.fromArray(F, b, bk + 2 * L), b3 = FloatVector.fromArray(F, b, bk + 3 * L);
                FloatVector x = FloatVector.broadcast(F, a[a0 + k]);
                s00 = x.fma(b0, s00); s01 = x.fma(b1, s01); s02 = x.fma(b2, s02); s03 = x.fma(b3, s03);
                x = FloatVector.broadcast(F, a[a1 + k]);
                s10 = x.fma(b0, s10); s11 = x.fma(b1, s11); s12 = x.fma(b2, s12); s13 = x.fma(b3, s13);
                x = FloatVector.broadcast(F, a[a2 + k]);
                s20 = x.fma(b0, s20); s21 = x.fma(b1, s21); s22 = x.fma(b2, s22); s23 = x.fma(b3, s23);
                x = FloatVector.broadcast(F, a[a3 + k]);
                s30 = x.fma(b0, s30); s31 = x.fma(b1, s31); s32 = x.fma(b2, s32); s33 = x.fma(b3, s33);
                x = FloatVector.broadcast(F, a[a4 + k]);
                s40 = x.fma(b0, s40); s41 = x.fma(b1, s41); s42 = x.fma(b2, s42); s43 = x.fma(b3, s43);
                x = FloatVector.broadcast(F, a[a5 + k]);
                s50 = x.fma(b0, s50); s51 = x.fma(b1, s51); s52 = x.fma(b2, s52); s53 = x.fma(b3, s53);
            }
            {
                int bk = bOff + (k + 1) * NR;
                FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + L);
                FloatVector b2 = FloatVector.fromArray(F, b, bk + 2 * L), b3 = FloatVector.fromArray(F, b, bk + 3 * L);
                FloatVector x = FloatVector.broadcast(F, a[a0 + k + 1]);
                s00 = x.fma(b0, s00); s01 = x.fma(b1, s01); s02 = x.fma(b2, s02); s03 = x.fma(b3, s03);
                x = FloatVector.broadcast(F, a[a1 + k + 1]);
                s10 = x.fma(b0, s10); s11 = x.fma(b1, s11); s12 = x.fma(b2, s12); s13 = x.fma(b3, s13);
                x = FloatVector.broadcast(F, a[a2 + k + 1]);
                s20 = x.fma(b0, s20); s21 = x.fma(b1, s21); s22 = x.fma(b2, s22); s23 = x.fma(b3, s23);
                x = FloatVector.broadcast(F, a[a3 + k + 1]);
                s30 = x.fma(b0, s30); s31 = x.fma(b1, s31); s32 = x.fma(b2, s32); s33 = x.fma(b3, s33);
                x = FloatVector.broadcast(F, a[a4 + k + 1]);
                s40 = x.fma(b0, s40); s41 = x.fma(b1, s41); s42 = x.fma(b2, s42); s43 = x.fma(b3, s43);
                x = FloatVector.broadcast(F, a[a5 + k + 1]);
                s50 = x.fma(b0, s50); s51 = x.fma(b1, s51); s52 = x.fma(b2, s52); s53 = x.fma(b3, s53);
            }
        }
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        s00.intoArray(c, c0); s01.intoArray(c, c0 + L); s02.intoArray(c, c0 + 2 * L); s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c1); s11.intoArray(c, c1 + L); s12.intoArray(c, c1 + 2 * L); s13.intoArray(c, c1 + 3 * L);
        s20.intoArray(c, c2); s21.intoArray(c, c2 + L); s22.intoArray(c, c2 + 2 * L); s23.intoArray(c, c2 + 3 * L);
        s30.intoArray(c, c3); s31.intoArray(c, c3 + L); s32.intoArray(c, c3 + 2 * L); s33.intoArray(c, c3 + 3 * L);
        s40.intoArray(c, c4); s41.intoArray(c, c4 + L); s42.intoArray(c, c4 + 2 * L); s43.intoArray(c, c4 + 3 * L);
        s50.intoArray(c, c5); s51.intoArray(c, c5 + L); s52.intoArray(c, c5 + 2 * L); s53.intoArray(c, c5 + 3 * L);
        if (k < kc) { // an odd depth's last k, added to C as just stored: the same sums, in the same order
            half(a, a0 + k, a1 + k, a2 + k, a3 + k, a4 + k, a5 + k, b, bOff + k * NR, 1, c, c0, ldc, c, c0, ldc);
            half(a, a0 + k, a1 + k, a2 + k, a3 + k, a4 + k, a5 + k, b, bOff + k * NR + 2 * L, 1, c, c0 + 2 * L, ldc,
                    c, c0 + 2 * L, ldc);
        }
    }

    /**
     * Columns {@code [0, 2L)} of the 6 x NR tile whose panel row starts at bOff: 12 accumulators, see {@link #HALVES};
     * also {@link #micro}'s last k where the depth is odd.
     */
    private static void half(float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                             float[] b, int bOff, int kc, float[] start, int t0, int lds, float[] c, int c0, int ldc) {
        int t1 = t0 + lds, t2 = t1 + lds, t3 = t2 + lds, t4 = t3 + lds, t5 = t4 + lds;
        FloatVector s00 = FloatVector.fromArray(F, start, t0), s01 = FloatVector.fromArray(F, start, t0 + L);
        FloatVector s10 = FloatVector.fromArray(F, start, t1), s11 = FloatVector.fromArray(F, start, t1 + L);
        FloatVector s20 = FloatVector.fromArray(F, start, t2), s21 = FloatVector.fromArray(F, start, t2 + L);
        FloatVector s30 = FloatVector.fromArray(F, start, t3), s31 = FloatVector.fromArray(F, start, t3 + L);
        FloatVector s40 = FloatVector.fromArray(F, start, t4), s41 = FloatVector.fromArray(F, start, t4 + L);
        FloatVector s50 = FloatVector.fromArray(F, start, t5), s51 = FloatVector.fromArray(F, start, t5 + L);
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + L);
            FloatVector x = FloatVector.broadcast(F, a[a0 + k]);
            s00 = x.fma(b0, s00); s01 = x.fma(b1, s01);
            x = FloatVector.broadcast(F, a[a1 + k]);
            s10 = x.fma(b0, s10); s11 = x.fma(b1, s11);
            x = FloatVector.broadcast(F, a[a2 + k]);
            s20 = x.fma(b0, s20); s21 = x.fma(b1, s21);
            x = FloatVector.broadcast(F, a[a3 + k]);
            s30 = x.fma(b0, s30); s31 = x.fma(b1, s31);
            x = FloatVector.broadcast(F, a[a4 + k]);
            s40 = x.fma(b0, s40); s41 = x.fma(b1, s41);
            x = FloatVector.broadcast(F, a[a5 + k]);
            s50 = x.fma(b0, s50); s51 = x.fma(b1, s51);
        }
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        s00.intoArray(c, c0); s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1); s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2); s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3); s31.intoArray(c, c3 + L);
        s40.intoArray(c, c4); s41.intoArray(c, c4 + L);
        s50.intoArray(c, c5); s51.intoArray(c, c5 + L);
    }

    /**
     * {@link #panel} over an A its caller packed: tiles of MR rows, each tile's rows interleaved per k, so that row
     * r's value at k is {@code a[aOff + (r / MR)·tileStride + k·MR + r % MR]}, and full NR-wide panels. Read in
     * place, each of A's six rows needs its own index per k, and on an Intel Xeon (Cascade Lake) that index
     * arithmetic held the micro-kernel to ~0.65 of the FMA loop; packed, the six values sit at constant offsets
     * from one index (1.3-1.5x in L1 there). A short last tile is computed whole through {@code tile} (its
     * padding rows, whatever they hold, are not stored).
     */
    static void packedPanel(float[] a, int aOff, int tileStride, int rows, float[] b, int bOff, int kc,
                            float[] start, int sOff, int lds, float[] c, int cOff, int ldc, float[] tile) {
        int r = 0;
        for (; r + MR <= rows; r += MR) {
            packedMicro(a, aOff + r / MR * tileStride, b, bOff, kc, start, sOff + r * lds, lds, c, cOff + r * ldc, ldc);
        }
        if (r < rows) {
            int n = rows - r;
            edgeStart(start, sOff + r * lds, lds, n, NR, tile);
            packedMicro(a, aOff + r / MR * tileStride, b, bOff, kc, tile, 0, NR, tile, 0, NR);
            edgeStore(tile, n, NR, c, cOff + r * ldc, ldc);
        }
    }

    /**
     * {@link #micro} over one packed tile of A from {@code a[p]}: the same sums in the same order. One k per pass, a
     * counted loop: with A's six values one index apart there is no per-row arithmetic for a second k to share,
     * and C2 compiles it to 48 instructions per k with nothing spilled.
     */
    private static void packedMicro(float[] a, int p, float[] b, int bOff, int kc, float[] start, int t0, int lds,
                                    float[] c, int c0, int ldc) {
        if (HALVES) {
            packedHalf(a, p, b, bOff, kc, start, t0, lds, c, c0, ldc);
            packedHalf(a, p, b, bOff + 2 * L, kc, start, t0 + 2 * L, lds, c, c0 + 2 * L, ldc);
            return;
        }
        int t1 = t0 + lds, t2 = t1 + lds, t3 = t2 + lds, t4 = t3 + lds, t5 = t4 + lds;
        FloatVector s00 = FloatVector.fromArray(F, start, t0), s01 = FloatVector.fromArray(F, start, t0 + L);
        FloatVector s02 = FloatVector.fromArray(F, start, t0 + 2 * L), s03 = FloatVector.fromArray(F, start, t0 + 3 * L);
        FloatVector s10 = FloatVector.fromArray(F, start, t1), s11 = FloatVector.fromArray(F, start, t1 + L);
        FloatVector s12 = FloatVector.fromArray(F, start, t1 + 2 * L), s13 = FloatVector.fromArray(F, start, t1 + 3 * L);
        FloatVector s20 = FloatVector.fromArray(F, start, t2), s21 = FloatVector.fromArray(F, start, t2 + L);
        FloatVector s22 = FloatVector.fromArray(F, start, t2 + 2 * L), s23 = FloatVector.fromArray(F, start, t2 + 3 * L);
        FloatVector s30 = FloatVector.fromArray(F, start, t3), s31 = FloatVector.fromArray(F, start, t3 + L);
        FloatVector s32 = FloatVector.fromArray(F, start, t3 + 2 * L), s33 = FloatVector.fromArray(F, start, t3 + 3 * L);
        FloatVector s40 = FloatVector.fromArray(F, start, t4), s41 = FloatVector.fromArray(F, start, t4 + L);
        FloatVector s42 = FloatVector.fromArray(F, start, t4 + 2 * L), s43 = FloatVector.fromArray(F, start, t4 + 3 * L);
        FloatVector s50 = FloatVector.fromArray(F, start, t5), s51 = FloatVector.fromArray(F, start, t5 + L);
        FloatVector s52 = FloatVector.fromArray(F, start, t5 + 2 * L), s53 = FloatVector.fromArray(F, start, t5 + 3 * L);
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * NR, ak = p + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + L);
            FloatVector b2 = FloatVector.fromArray(F, b, bk + 2 * L), b3 = FloatVector.fromArray(F, b, bk + 3 * L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            s00 = x.fma(b0, s00); s01 = x.fma(b1, s01); s02 = x.fma(b2, s02); s03 = x.fma(b3, s03);
            x = FloatVector.broadcast(F, a[ak + 1]);
            s10 = x.fma(b0, s10); s11 = x.fma(b1, s11); s12 = x.fma(b2, s12); s13 = x.fma(b3, s13);
            x = FloatVector.broadcast(F, a[ak + 2]);
            s20 = x.fma(b0, s20); s21 = x.fma(b1, s21); s22 = x.fma(b2, s22); s23 = x.fma(b3, s23);
            x = FloatVector.broadcast(F, a[ak + 3]);
            s30 = x.fma(b0, s30); s31 = x.fma(b1, s31); s32 = x.fma(b2, s32); s33 = x.fma(b3, s33);
            x = FloatVector.broadcast(F, a[ak + 4]);
            s40 = x.fma(b0, s40); s41 = x.fma(b1, s41); s42 = x.fma(b2, s42); s43 = x.fma(b3, s43);
            x = FloatVector.broadcast(F, a[ak + 5]);
            s50 = x.fma(b0, s50); s51 = x.fma(b1, s51); s52 = x.fma(b2, s52); s53 = x.fma(b3, s53);
        }
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        s00.intoArray(c, c0); s01.intoArray(c, c0 + L); s02.intoArray(c, c0 + 2 * L); s03.intoArray(c, c0 + 3 * L);
        s10.intoArray(c, c1); s11.intoArray(c, c1 + L); s12.intoArray(c, c1 + 2 * L); s13.intoArray(c, c1 + 3 * L);
        s20.intoArray(c, c2); s21.intoArray(c, c2 + L); s22.intoArray(c, c2 + 2 * L); s23.intoArray(c, c2 + 3 * L);
        s30.intoArray(c, c3); s31.intoArray(c, c3 + L); s32.intoArray(c, c3 + 2 * L); s33.intoArray(c, c3 + 3 * L);
        s40.intoArray(c, c4); s41.intoArray(c, c4 + L); s42.intoArray(c, c4 + 2 * L); s43.intoArray(c, c4 + 3 * L);
        s50.intoArray(c, c5); s51.intoArray(c, c5 + L); s52.intoArray(c, c5 + 2 * L); s53.intoArray(c, c5 + 3 * L);
    }

    /** {@link #half} over one packed tile of A. */
    private static void packedHalf(float[] a, int p, float[] b, int bOff, int kc, float[] start, int t0, int lds,
                                   float[] c, int c0, int ldc) {
        int t1 = t0 + lds, t2 = t1 + lds, t3 = t2 + lds, t4 = t3 + lds, t5 = t4 + lds;
        FloatVector s00 = FloatVector.fromArray(F, start, t0), s01 = FloatVector.fromArray(F, start, t0 + L);
        FloatVector s10 = FloatVector.fromArray(F, start, t1), s11 = FloatVector.fromArray(F, start, t1 + L);
        FloatVector s20 = FloatVector.fromArray(F, start, t2), s21 = FloatVector.fromArray(F, start, t2 + L);
        FloatVector s30 = FloatVector.fromArray(F, start, t3), s31 = FloatVector.fromArray(F, start, t3 + L);
        FloatVector s40 = FloatVector.fromArray(F, start, t4), s41 = FloatVector.fromArray(F, start, t4 + L);
        FloatVector s50 = FloatVector.fromArray(F, start, t5), s51 = FloatVector.fromArray(F, start, t5 + L);
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * NR, ak = p + k * MR;
            FloatVector b0 = FloatVector.fromArray(F, b, bk), b1 = FloatVector.fromArray(F, b, bk + L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            s00 = x.fma(b0, s00); s01 = x.fma(b1, s01);
            x = FloatVector.broadcast(F, a[ak + 1]);
            s10 = x.fma(b0, s10); s11 = x.fma(b1, s11);
            x = FloatVector.broadcast(F, a[ak + 2]);
            s20 = x.fma(b0, s20); s21 = x.fma(b1, s21);
            x = FloatVector.broadcast(F, a[ak + 3]);
            s30 = x.fma(b0, s30); s31 = x.fma(b1, s31);
            x = FloatVector.broadcast(F, a[ak + 4]);
            s40 = x.fma(b0, s40); s41 = x.fma(b1, s41);
            x = FloatVector.broadcast(F, a[ak + 5]);
            s50 = x.fma(b0, s50); s51 = x.fma(b1, s51);
        }
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        s00.intoArray(c, c0); s01.intoArray(c, c0 + L);
        s10.intoArray(c, c1); s11.intoArray(c, c1 + L);
        s20.intoArray(c, c2); s21.intoArray(c, c2 + L);
        s30.intoArray(c, c3); s31.intoArray(c, c3 + L);
        s40.intoArray(c, c4); s41.intoArray(c, c4 + L);
        s50.intoArray(c, c5); s51.intoArray(c, c5 + L);
    }

    /** Fills {@code rows x cols} of C (row stride ldc) with {@code bias[biasOff + r]} per row. */
    static void fillRows(float[] c, int cOff, int ldc, int rows, int cols, float[] bias, int biasOff) {
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(c, cOff + r * ldc, cOff + r * ldc + cols, bias[biasOff + r]);
        }
    }
}
