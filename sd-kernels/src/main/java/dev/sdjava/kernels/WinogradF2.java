package dev.sdjava.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The transforms of Winograd's F(2x2, 3x3): a 4x4 input tile gives a 2x2 block of output for 16 multiplies per
 * input channel instead of 36. Its transforms only add, subtract and halve, so it rounds about as the direct
 * convolution does.
 * <pre>
 *   Bᵀ = [1  0 -1  0      G = [1   0   0      Aᵀ = [1 1  1  0
 *         0  1  1  0           ½   ½   ½            0 1 -1 -1]
 *         0 -1  1  0           ½  -½   ½
 *         0  1  0 -1]          0   0   1]
 * </pre>
 */
final class WinogradF2 extends Winograd.Transforms {
    private static final VectorSpecies<Float> F = Gemm.F;
    private static final int L = Gemm.L, NR = Gemm.NR;
    /** Scratch of the vector path: rows 1 and 2 of G g for L channels (6 vectors). */
    private static final int TAPS = 6 * L;
    /**
     * Floats per buffered input row of a segment (at most NR tiles, 2·NR + 2 columns), rounded up to whole pairs
     * of vectors; the buffer holds 4 such rows, then their 8 even/odd halves.
     */
    private static final int ROW = 2 * L * Math.ceilDiv(NR + 1, L);
    /** Created after the sizes above, which its constructor reads. */
    static final WinogradF2 INSTANCE = new WinogradF2();

    private WinogradF2() {
        super(2, TAPS, 8 * ROW + L);
    }

    // ---- weights: U = G g Gᵀ ----

    @Override
    void filters(float[] g, int at, int scratch, int in, float[] u, int uAt, int stride) {
        int c = 0, t = scratch;
        for (; c + L <= in; c += L) {
            int k = at + 9 * c; // the group's taps: (kernel row r, column j) at k + (3r + j)·L; rows 0 and 3 of G g
            middleRows(g, k, t);
            filterTaps(g, k, u, uAt + c, stride);
            filterTaps(g, t, u, uAt + c + 4 * stride, stride);
            filterTaps(g, t + 3 * L, u, uAt + c + 8 * stride, stride);
            filterTaps(g, k + 6 * L, u, uAt + c + 12 * stride, stride);
        }
        // The last group, narrower: tap i of its channel c at g[at + 9·first + i·size + c - first].
        int first = c, size = in - first;
        for (; c < in; c++) {
            int k = at + 9 * first + c - first;
            // Rows of G g: rows 0..3 of the 4x3 intermediate.
            float a00 = g[k], a01 = g[k + size], a02 = g[k + 2 * size];
            float a30 = g[k + 6 * size], a31 = g[k + 7 * size], a32 = g[k + 8 * size];
            float e0 = a00 + a30, e1 = a01 + a31, e2 = a02 + a32;
            float a10 = 0.5f * (e0 + g[k + 3 * size]), a11 = 0.5f * (e1 + g[k + 4 * size]), a12 = 0.5f * (e2 + g[k + 5 * size]);
            float a20 = 0.5f * (e0 - g[k + 3 * size]), a21 = 0.5f * (e1 - g[k + 4 * size]), a22 = 0.5f * (e2 - g[k + 5 * size]);
            int o = uAt + c;
            filterTap(a00, a01, a02, u, o, stride);
            filterTap(a10, a11, a12, u, o + 4 * stride, stride);
            filterTap(a20, a21, a22, u, o + 8 * stride, stride);
            filterTap(a30, a31, a32, u, o + 12 * stride, stride);
        }
    }

    /** Rows 1 and 2 of G g from the group's taps at {@code g[k]}: ½(g0 + g2 ± g1), to {@code g[t, t+6L)}. */
    private static void middleRows(float[] g, int k, int t) {
        for (int j = 0; j < 3; j++) {
            FloatVector e = FloatVector.fromArray(F, g, k + j * L).add(FloatVector.fromArray(F, g, k + (6 + j) * L));
            FloatVector g1 = FloatVector.fromArray(F, g, k + (3 + j) * L);
            e.add(g1).mul(0.5f).intoArray(g, t + j * L);
            e.sub(g1).mul(0.5f).intoArray(g, t + (3 + j) * L);
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

    // ---- input: V = Bᵀ d B ----

    /**
     * Tiles {@code tx .. tx+count-1} of tile row ty: the four input rows under them (zero past the border), the
     * vertical half of the transform (Bᵀ d) split into even and odd columns, then the horizontal half, which for
     * tile j reads columns 2j..2j+3, i.e. even and odd columns j and j+1. Whole vectors only, as
     * {@link Winograd} explains.
     */
    @Override
    void inputSegment(float[] x, int plane, int height, int width, int ty, int tx, int count,
                      float[] v, int vAt, int xiStride, float[] buf) {
        int n = 2 * count + 2, col = 2 * tx - 1, half = ROW / 2;
        for (int i = 0; i < 4; i++) {
            Winograd.paddedRow(x, plane, height, width, 2 * ty - 1 + i, col, n, buf, i * ROW);
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
        Winograd.EVEN.selectFrom(lo, hi).intoArray(buf, at);
        Winograd.ODD.selectFrom(lo, hi).intoArray(buf, at + half);
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

    // ---- output: Y = Aᵀ M A + bias ----

    /**
     * Output rows 2ty and 2ty+1 (when inside the image) of the tiles tx .. tx+count-1 of one channel, L tiles per
     * {@link #outputRow} call.
     */
    @Override
    void outputSegment(float[] m, int at, int stride, int count, float bias, float[] y, int plane,
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
        FloatVector lo = Winograd.ZIP_LO.selectFrom(left, right), hi = Winograd.ZIP_HI.selectFrom(left, right);
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
