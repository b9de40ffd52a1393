package dev.sdjava.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

/**
 * The geometry of one convolution call, and the packing of its implicit im2col matrix: row k = one tap (kernel
 * row, kernel column) of one input channel, in the order {@link #source} gives, column p = output pixel, value =
 * the input pixel that tap reads, or zero past the border.
 */
record ConvShape(int inChannels, int height, int width, int kernelHeight, int kernelWidth,
                 int stride, int padTop, int padLeft, int outWidth) {

    /** Input channels per group of the K order: one vector's worth. */
    static final int GROUP = Gemm.L;

    /**
     * The K order of the im2col rows, and so of the weights along K: k = (group of {@link #GROUP} input channels,
     * tap, channel within the group), the last group holding what is left. A tap of a group's channels is then
     * one vector of the weights, which Winograd's filter transform reads in place; in the checkpoint's order
     * (channel, tap) it gathered them 9 floats apart, 10-15% of a 1280-channel convolution at 16x16. Returns
     * {@code channel·taps + tap} of row k, its index in that order.
     */
    static int source(int k, int channels, int taps) {
        int span = GROUP * taps, group = k / span, first = group * GROUP, size = Math.min(GROUP, channels - first);
        int within = k - group * span;
        return (first + within % size) * taps + within / size;
    }

    /**
     * Packs rows {@code [k0, k0 + kc)} and pixels {@code [p0, p0 + np)} of the im2col matrix of the image at
     * {@code xOff} into NR-wide panels: panel q at {@code at + q·kc·NR}, row k of it at {@code + k·NR}; columns
     * past {@code np} are zero.
     */
    void pack(float[] x, int xOff, int k0, int kc, int p0, int np, float[] pack, int at) {
        int nr = Gemm.NR, taps = kernelHeight * kernelWidth;
        // Stride 1 with "same" width: a tap's row of the im2col matrix is the input plane shifted (see shifted).
        boolean shift = stride == 1 && outWidth == width;
        // Row k0's channel and tap from source, then stepped row by row: calling source for every row (its
        // divisions) took most of the packing where rows are short (8x8 images).
        int from = source(k0, inChannels, taps), tap = from % taps, first = from / taps / GROUP * GROUP;
        int channel = from / taps - first, size = Math.min(GROUP, inChannels - first);
        int dr = tap / kernelWidth, dc = tap % kernelWidth;
        for (int k = 0; k < kc; k++) {
            int plane = xOff + (first + channel) * height * width;
            for (int q = 0; q * nr < np; q++) {
                int dst = at + (q * kc + k) * nr, count = Math.min(nr, np - q * nr);
                int p = p0 + q * nr;
                if (shift) {
                    shifted(x, plane, p, count, dr, dc, pack, dst);
                } else {
                    for (int j = 0, r = p / outWidth, c = p % outWidth; j < count; r++, c = 0) {
                        int len = Math.min(count - j, outWidth - c);
                        row(x, plane, r * stride - padTop + dr, c * stride - padLeft + dc, len, pack, dst + j);
                        j += len;
                    }
                }
                Arrays.fill(pack, dst + count, dst + nr, 0);
            }
            if (++channel == size) {
                channel = 0;
                if (++dc == kernelWidth) {
                    dc = 0;
                    dr++;
                }
                if (++tap == taps) {
                    tap = 0;
                    dr = 0;
                    first += GROUP;
                    size = Math.min(GROUP, inChannels - first);
                }
            }
        }
    }

    /**
     * Taps {@code (dr, dc)} of output pixels {@code [p, p + count)} when stride is 1 and rows keep their width:
     * then pixel p reads the input at flat index {@code p + shift}, so one copy serves every row, followed by
     * zeroing what lies past the top or bottom, and the columns that wrapped into a neighbouring row.
     */
    private void shifted(float[] x, int plane, int p, int count, int dr, int dc, float[] pack, int dst) {
        int dcol = dc - padLeft, shift = (dr - padTop) * width + dcol;
        int lo = Math.clamp(-shift - p, 0, count), hi = Math.clamp((long) height * width - shift - p, lo, count);
        Arrays.fill(pack, dst, dst + lo, 0);
        if (hi > lo) {
            System.arraycopy(x, plane + p + shift + lo, pack, dst + lo, hi - lo);
        }
        Arrays.fill(pack, dst + hi, dst + count, 0);
        if (dcol != 0) {
            // Output columns [bad0, bad1) read past the left (dcol < 0) or right (dcol > 0) edge.
            int bad0 = dcol < 0 ? 0 : Math.max(0, width - dcol), bad1 = dcol < 0 ? Math.min(width, -dcol) : width;
            for (int rowStart = p - p % width; rowStart < p + count; rowStart += width) {
                for (int q = Math.max(p, rowStart + bad0), to = Math.min(p + count, rowStart + bad1); q < to; q++) {
                    pack[dst + q - p] = 0;
                }
            }
        }
    }

    /** Lane i of {@code lo.rearrange(EVEN, hi)} is lane 2i of the 2L floats lo, hi (indices past L select from hi). */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(Gemm.F, i -> 2 * i);

    /**
     * {@code pack[dst + e] = x[from + 2e]} for e below len: the downsamplers' taps. Two loads and one two-vector
     * shuffle per vector of taps; the last vector overlaps the one before rather than going scalar, and what
     * would read past x goes scalar. Per element, with a bounds test each, this took 1.6 ns per packed float,
     * more than the 320 -> 320 downsampler's multiply-adds per float.
     */
    private static void everyOther(float[] x, int from, int len, float[] pack, int dst) {
        int l = Gemm.L, e = 0;
        // The last start whose vector fits: e + L <= len, and its reads x[from + 2e, from + 2e + 2L) inside x.
        int last = Math.min(len, (x.length - from) / 2) - l;
        if (last >= 0) {
            for (; e < last; e += l) {
                evens(x, from + 2 * e, pack, dst + e);
            }
            evens(x, from + 2 * last, pack, dst + last);
            e = last + l;
        }
        for (; e < len; e++) {
            pack[dst + e] = x[from + 2 * e];
        }
    }

    /** {@code pack[to + i] = x[at + 2i]} for the L lanes i. */
    private static void evens(float[] x, int at, float[] pack, int to) {
        FloatVector lo = FloatVector.fromArray(Gemm.F, x, at), hi = FloatVector.fromArray(Gemm.F, x, at + Gemm.L);
        lo.rearrange(EVEN, hi).intoArray(pack, to);
    }

    /** {@code len} taps along input row {@code ir} from input column {@code ic}, {@code stride} apart. */
    private void row(float[] x, int plane, int ir, int ic, int len, float[] pack, int dst) {
        if (ir < 0 || ir >= height) {
            Arrays.fill(pack, dst, dst + len, 0);
            return;
        }
        int at = plane + ir * width;
        if (stride == 1) {
            int lo = Math.min(len, Math.max(0, -ic)), hi = Math.max(lo, Math.min(len, width - ic));
            Arrays.fill(pack, dst, dst + lo, 0);
            System.arraycopy(x, at + ic + lo, pack, dst + lo, hi - lo);
            Arrays.fill(pack, dst + hi, dst + len, 0);
        } else if (stride == 2) {
            // Taps [lo, hi) read inside the row: ic + 2e in [0, width).
            int lo = Math.min(len, Math.max(0, (1 - ic) / 2)), hi = Math.max(lo, Math.min(len, (width - ic + 1) / 2));
            Arrays.fill(pack, dst, dst + lo, 0);
            everyOther(x, at + ic + 2 * lo, hi - lo, pack, dst + lo);
            Arrays.fill(pack, dst + hi, dst + len, 0);
        } else {
            for (int e = 0; e < len; e++) {
                int col = ic + e * stride;
                pack[dst + e] = col >= 0 && col < width ? x[at + col] : 0;
            }
        }
    }
}
