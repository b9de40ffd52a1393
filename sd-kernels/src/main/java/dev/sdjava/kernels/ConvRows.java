package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;

import java.util.Arrays;

/**
 * Convolution weights {@code W[out, k]}, k in the im2col row order ({@link ConvShape#source}), in K blocks: block
 * {@code k0 = b·KC} holds {@code W[o, k0 + j]} at {@code k0·out + o·kc + j} (kc = the block's depth), so the
 * MC x KC block of A an {@link ImplicitGemm} task widens is one contiguous run, which the hardware prefetcher streams from memory
 * (96 short row pieces measured 10-14% slower at 8x8, where each weight serves few pixels). F32 in
 * {@code w}, or F16/BF16 in {@code half} (the other is null).
 */
record ConvRows(int outChannels, int inChannels, int kernelHeight, int kernelWidth, float[] w, Half half,
                float[] bias) implements ConvWeights {

    /** Checks {@code weight} and {@code bias} and stores them in K blocks, 16-bit weights kept 16-bit. */
    static ConvRows pack(Tensor weight, Tensor bias, Kernels kernels) {
        WeightData.checkConv(weight, bias);
        int out = Math.toIntExact(weight.dim(0)), in = Math.toIntExact(weight.dim(1));
        int kh = Math.toIntExact(weight.dim(2)), kw = Math.toIntExact(weight.dim(3)), kk = in * kh * kw;
        float[] biasF = WeightData.bias(bias, out, kernels);
        int size = Math.multiplyExact(out, kk);
        int[] order = new int[kk];
        Arrays.setAll(order, k -> ConvShape.source(k, in, kh * kw));
        // Output channels in parallel, on as many threads as may read the stored form: each task its own rows.
        if (WeightData.isHalf(weight)) {
            short[] blocks = new short[size];
            WeightData.forTasks(weight, out, (o0, o1) -> {
                short[] row = new short[kk], ordered = new short[kk];
                for (int o = o0; o < o1; o++) {
                    WeightData.bits(weight, (long) o * kk, row, kk);
                    for (int k = 0; k < kk; k++) {
                        ordered[k] = row[order[k]];
                    }
                    toBlocks(ordered, out, o, kk, blocks);
                }
            });
            return new ConvRows(out, in, kh, kw, null, new Half(blocks, weight.dtype() == DType.BF16), biasF);
        }
        float[] w = WeightData.floats(weight, kernels), blocks = new float[size];
        Parallel.forRange(out, (o0, o1) -> {
            float[] ordered = new float[kk];
            for (int o = o0; o < o1; o++) {
                for (int k = 0; k < kk; k++) {
                    ordered[k] = w[o * kk + order[k]];
                }
                toBlocks(ordered, out, o, kk, blocks);
            }
        });
        return new ConvRows(out, in, kh, kw, blocks, null, biasF);
    }

    /** Scatters row {@code o} ({@code kk} values in K order) into the K-block layout of {@link ConvRows}. */
    private static void toBlocks(Object row, int out, int o, int kk, Object blocks) {
        for (int k0 = 0; k0 < kk; k0 += Gemm.KC) {
            int kc = Math.min(Gemm.KC, kk - k0);
            System.arraycopy(row, k0, blocks, k0 * out + o * kc, kc);
        }
    }

    /** K of the implicit GEMM: the weights per output channel. */
    int depth() {
        return inChannels * kernelHeight * kernelWidth;
    }

    /**
     * The weights of output channels {@code [o0, o0 + count)} as F32 rows in K order, channel {@code o0 + i} at
     * {@code dst[at + i·depth, at + (i + 1)·depth)}: a K block at a time, in which these channels are one run.
     */
    void rows(int o0, int count, float[] dst, int at) {
        int kk = depth();
        for (int k0 = 0; k0 < kk; k0 += Gemm.KC) {
            int kc = Math.min(Gemm.KC, kk - k0);
            for (int i = 0; i < count; i++) {
                floats(k0 * outChannels + (o0 + i) * kc, kc, dst, at + i * kk + k0);
            }
        }
    }

    /** {@code dst[at, at + n)} = stored values {@code [from, from + n)} of this layout as F32 (widened if 16-bit). */
    void floats(int from, int n, float[] dst, int at) {
        if (half != null) {
            half.widen(from, n, dst, at);
        } else {
            System.arraycopy(w, from, dst, at, n);
        }
    }
}
