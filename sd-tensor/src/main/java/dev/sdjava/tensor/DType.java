package dev.sdjava.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The element types a .safetensors file can hold, under the names the format uses.
 * Data is always little-endian; the float types convert exactly to {@code float} (F64 rounds).
 */
public enum DType {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    F8_E4M3(1, true), F8_E5M2(1, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false), U8(1, false), BOOL(1, false);

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The dtype spelled as in a safetensors header ("F16", "BF16", ...), or {@code null} if unknown. */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** Reads element {@code index} (not byte offset) of {@code segment} as a float. */
    public float readFloat(MemorySegment segment, long index) {
        long at = index * byteSize;
        return switch (this) {
            case F32 -> segment.get(FLOAT, at);
            case F16 -> Float.float16ToFloat(segment.get(SHORT, at));
            case BF16 -> bf16ToFloat(segment.get(SHORT, at));
            case F64 -> (float) segment.get(DOUBLE, at);
            case F8_E4M3 -> e4m3ToFloat(segment.get(ValueLayout.JAVA_BYTE, at));
            case F8_E5M2 -> Float.float16ToFloat((short) (segment.get(ValueLayout.JAVA_BYTE, at) << 8));
            case I64 -> segment.get(LONG, at);
            case I32 -> segment.get(INT, at);
            case I16 -> segment.get(SHORT, at);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, at);
            case U8, BOOL -> segment.get(ValueLayout.JAVA_BYTE, at) & 0xff;
        };
    }

    /** Writes {@code value} as element {@code index}, rounding to nearest-even for the narrow float types. */
    public void writeFloat(MemorySegment segment, long index, float value) {
        long at = index * byteSize;
        switch (this) {
            case F32 -> segment.set(FLOAT, at, value);
            case F16 -> segment.set(SHORT, at, Float.floatToFloat16(value));
            case BF16 -> segment.set(SHORT, at, floatToBf16(value));
            case F64 -> segment.set(DOUBLE, at, value);
            default -> throw new UnsupportedOperationException("cannot write floats as " + this);
        }
    }

    /** Reads element {@code index} of an integer tensor. */
    public long readLong(MemorySegment segment, long index) {
        long at = index * byteSize;
        return switch (this) {
            case I64 -> segment.get(LONG, at);
            case I32 -> segment.get(INT, at);
            case I16 -> segment.get(SHORT, at);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, at);
            case U8, BOOL -> segment.get(ValueLayout.JAVA_BYTE, at) & 0xff;
            default -> throw new UnsupportedOperationException(this + " is not an integer type");
        };
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Round to nearest even; NaN stays NaN (quiet). */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** FP8 E4M3 (the "fn" variant safetensors uses): bias 7, no infinities, S.1111.111 is NaN. */
    public static float e4m3ToFloat(byte b) {
        float sign = (b & 0x80) != 0 ? -1f : 1f; // a float, so that 0x80 decodes to -0.0
        int exponent = (b >>> 3) & 0xf;
        int mantissa = b & 0x7;
        if (exponent == 0xf && mantissa == 0x7) {
            return Float.NaN;
        }
        if (exponent == 0) {
            return sign * mantissa * 0x1p-9f; // subnormal: m/8 * 2^-6
        }
        return sign * (1 + mantissa / 8f) * (float) Math.scalb(1.0, exponent - 7);
    }
}
