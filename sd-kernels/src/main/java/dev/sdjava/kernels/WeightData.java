package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Reading stored weights (F32, F16 or BF16) into float arrays, with the shape checks every provider needs. */
final class WeightData {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Elements converted per step, so that a large tensor never needs a second full-size buffer of shorts. */
    private static final int STEP = 1 << 16;

    private WeightData() {
    }

    /** All of {@code t} as floats, converted with {@code kernels}' bulk F16/BF16 conversion. */
    static float[] floats(Tensor t, Kernels kernels) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("weight " + t + " is too large for one kernel array");
        }
        float[] out = new float[(int) n];
        MemorySegment data = t.data();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, FLOAT_LE, 0, out, 0, (int) n);
            case F16, BF16 -> {
                short[] bits = new short[(int) Math.min(n, STEP)];
                float[] part = new float[bits.length];
                for (int at = 0; at < n; at += STEP) {
                    int len = (int) Math.min(STEP, n - at);
                    MemorySegment.copy(data, SHORT_LE, 2L * at, bits, 0, len);
                    if (t.dtype() == DType.F16) {
                        kernels.f16ToF32(bits, len, part);
                    } else {
                        kernels.bf16ToF32(bits, len, part);
                    }
                    System.arraycopy(part, 0, out, at, len);
                }
            }
            default -> {
                if (!t.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException("weight " + t + " must be F32, F16 or BF16");
                }
                for (int i = 0; i < n; i++) {
                    out[i] = t.getFloat(i);
                }
            }
        }
        return out;
    }

    /** The raw 16-bit patterns of an F16 or BF16 tensor. */
    static short[] bits(Tensor t) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("weight " + t + " is too large for one kernel array");
        }
        short[] out = new short[(int) n];
        MemorySegment.copy(t.data(), SHORT_LE, 0, out, 0, (int) n);
        return out;
    }

    /** {@code n} raw 16-bit patterns of an F16 or BF16 tensor, from element {@code from} on, to {@code dst[0, n)}. */
    static void bits(Tensor t, long from, short[] dst, int n) {
        MemorySegment.copy(t.data(), SHORT_LE, 2 * from, dst, 0, n);
    }

    /**
     * Runs {@code body} over {@code [0, tasks)} on the kernels' threads where they may read {@code weight}'s memory
     * ({@link Parallel#canRead}), else on this thread alone: packing a checkpoint's weights is most of a load.
     */
    static void forTasks(Tensor weight, int tasks, Parallel.Range body) {
        if (Parallel.canRead(weight.data())) {
            Parallel.forRange(tasks, body);
        } else {
            body.run(0, tasks);
        }
    }

    /** Whether {@code t} is 16-bit (F16 or BF16): such weights stay 16-bit in memory and are widened per block. */
    static boolean isHalf(Tensor t) {
        return t.dtype() == DType.F16 || t.dtype() == DType.BF16;
    }

    /** Checks {@code weight [out, in]} or {@code [out, in, 1, 1]} and an optional {@code bias [out]}. */
    static void checkLinear(Tensor weight, Tensor bias) {
        long[] s = weight.shape();
        boolean ok = s.length == 2 || (s.length == 4 && s[2] == 1 && s[3] == 1);
        if (!ok) {
            throw new IllegalArgumentException("linear weight " + weight + " must be [out, in] or [out, in, 1, 1]");
        }
        checkBias(bias, s[0], weight);
    }

    /** Checks {@code weight [out, in, kh, kw]} and an optional {@code bias [out]}. */
    static void checkConv(Tensor weight, Tensor bias) {
        if (weight.rank() != 4) {
            throw new IllegalArgumentException("conv weight " + weight + " must be [out, in, kh, kw]");
        }
        checkBias(bias, weight.dim(0), weight);
    }

    private static void checkBias(Tensor bias, long out, Tensor weight) {
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != out)) {
            throw new IllegalArgumentException("bias " + bias + " does not match weight " + weight
                    + ": expected [" + out + "]");
        }
    }

    /** The bias as floats, zeros when absent. */
    static float[] bias(Tensor bias, int out, Kernels kernels) {
        return bias == null ? new float[out] : floats(bias, kernels);
    }

}
