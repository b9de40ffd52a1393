package dev.sdjava.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A row-major, contiguous n-dimensional array: a dtype, a shape and the bytes, in a
 * {@link MemorySegment} that is either memory-mapped from a checkpoint or allocated from an
 * {@link Arena} the caller owns. Views (reshape, slice) share the bytes; nothing is copied
 * unless a method says so.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;

    public Tensor(DType dtype, long[] shape, MemorySegment data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long expected = Math.multiplyExact(elementCount(this.shape), dtype.byteSize());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + describe(dtype, this.shape) + " needs " + expected
                    + " bytes, the segment has " + data.byteSize());
        }
        this.data = data;
    }

    /** A zero-filled tensor whose memory lives as long as {@code arena}. */
    public static Tensor allocate(Arena arena, DType dtype, long... shape) {
        long bytes = Math.multiplyExact(elementCount(shape), dtype.byteSize());
        return new Tensor(dtype, shape, arena.allocate(bytes, Math.min(64, Math.max(1, dtype.byteSize()))));
    }

    /** An F32 tensor holding a copy of {@code values}. */
    public static Tensor ofFloats(Arena arena, float[] values, long... shape) {
        Tensor t = allocate(arena, DType.F32, shape);
        if (t.numel() != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        }
        MemorySegment.copy(values, 0, t.data, F32_LE, 0, values.length);
        return t;
    }

    /** Product of the dimensions; throws on a negative dimension or overflow. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative indices count from the end. */
    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return elementCount(shape);
    }

    public long byteSize() {
        return data.byteSize();
    }

    public MemorySegment data() {
        return data;
    }

    /**
     * Says this tensor's bytes will not be read again soon. A memory-mapped tensor gives its pages back
     * to the operating system, so that they stop counting in this process's resident memory (a later
     * read faults them in again from the file); any other tensor is unaffected. A loader calls it once a
     * weight is copied into a network's own layout: otherwise every page it read stays resident, a
     * second copy of the model.
     */
    public void unload() {
        if (data.isMapped() && data.byteSize() > 0) {
            data.unload();
        }
    }

    /** The same bytes under another shape with the same element count. */
    public Tensor reshape(long... newShape) {
        if (elementCount(newShape) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + this + " to " + Arrays.toString(newShape));
        }
        return new Tensor(dtype, newShape, data);
    }

    /** Rows {@code [from, to)} of the first dimension, sharing the bytes. */
    public Tensor slice(long from, long to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + this);
        }
        long rowBytes = shape[0] == 0 ? 0 : data.byteSize() / shape[0];
        long[] s = shape.clone();
        s[0] = to - from;
        return new Tensor(dtype, s, data.asSlice(from * rowBytes, (to - from) * rowBytes));
    }

    /** Element {@code index} (flat, row-major) as a float, for any dtype. */
    public float getFloat(long index) {
        return dtype.readFloat(data, index);
    }

    /** A heap copy of all elements widened to float. */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(this + " is too large for a Java array");
        }
        float[] out = new float[(int) n];
        copyTo(out, 0);
        return out;
    }

    /** Copies all elements, widened to float, into {@code dst} from {@code offset}. */
    public void copyTo(float[] dst, int offset) {
        int n = Math.toIntExact(numel());
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, 0, dst, offset, n);
            case F16 -> {
                // A plain loop over float16ToFloat is auto-vectorised by C2 (vcvtph2ps).
                short[] bits = data.toArray(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = Float.float16ToFloat(bits[i]);
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = dtype.readFloat(data, i);
                }
            }
        }
    }

    /** A new F32 tensor in {@code arena} with the values of this one. */
    public Tensor toF32(Arena arena) {
        return ofFloats(arena, toFloatArray(), shape);
    }

    @Override
    public String toString() {
        return describe(dtype, shape);
    }

    static String describe(DType dtype, long[] shape) {
        StringBuilder sb = new StringBuilder("Tensor[").append(dtype).append(' ');
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : "x").append(shape[i]);
        }
        return sb.append(shape.length == 0 ? "scalar]" : "]").toString();
    }
}
