package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DTypeTest {
    /** Landmarks of the OCP FP8 E4M3 (fn) table: zeros, smallest subnormal and normal, largest, NaN. */
    @Test
    void e4m3DecodesTheSpecialValues() {
        assertEquals(0.0f, DType.e4m3ToFloat((byte) 0x00));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(DType.e4m3ToFloat((byte) 0x80)));
        assertEquals(0x1p-9f, DType.e4m3ToFloat((byte) 0x01));
        assertEquals(0x1p-6f, DType.e4m3ToFloat((byte) 0x08));
        assertEquals(448f, DType.e4m3ToFloat((byte) 0x7e));
        assertEquals(-448f, DType.e4m3ToFloat((byte) 0xfe));
        assertTrue(Float.isNaN(DType.e4m3ToFloat((byte) 0x7f)));
        assertTrue(Float.isNaN(DType.e4m3ToFloat((byte) 0xff)));
    }

    /** Every bf16 bit pattern survives float and back (NaNs stay NaN). */
    @Test
    void bf16RoundTripsEveryPattern() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float f = DType.bf16ToFloat((short) bits);
            short back = DType.floatToBf16(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(DType.bf16ToFloat(back)));
            } else {
                assertEquals((short) bits, back, Integer.toHexString(bits));
            }
        }
    }
}
