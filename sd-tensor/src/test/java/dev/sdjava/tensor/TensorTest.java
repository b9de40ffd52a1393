package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void viewsShareBytesAndToStringShowsShape() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.ofFloats(arena, new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
            assertEquals("Tensor[F32 3x2]", t.toString());
            Tensor rows = t.slice(1, 3);
            assertArrayEquals(new float[] {3, 4, 5, 6}, rows.toFloatArray());
            assertArrayEquals(new long[] {2, 3}, t.reshape(2, 3).shape());
            assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(2, 4));
        }
    }
}
