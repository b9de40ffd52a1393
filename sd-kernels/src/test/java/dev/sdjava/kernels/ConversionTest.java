package dev.sdjava.kernels;

import dev.sdjava.tensor.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** F16 and BF16 widen exactly, for all 65,536 bit patterns, in every provider. */
class ConversionTest {

    @Test
    void everyHalfAndBfloat16PatternWidensExactly() {
        short[] all = new short[65536 + 3]; // a tail shorter than one vector, too
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        for (Kernels k : new Kernels[]{new ScalarKernels(), new VectorKernels()}) {
            float[] f16 = new float[all.length], bf16 = new float[all.length];
            k.f16ToF32(all, all.length, f16);
            k.bf16ToF32(all, all.length, bf16);
            for (int i = 0; i < all.length; i++) {
                assertEquals(Float.floatToRawIntBits(Float.float16ToFloat(all[i])), Float.floatToRawIntBits(f16[i]),
                        k.name() + " f16 pattern " + Integer.toHexString(i));
                assertEquals(Float.floatToRawIntBits(DType.bf16ToFloat(all[i])), Float.floatToRawIntBits(bf16[i]),
                        k.name() + " bf16 pattern " + Integer.toHexString(i));
            }
        }
    }
}
