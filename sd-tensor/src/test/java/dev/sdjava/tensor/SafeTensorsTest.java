package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    static final Path MODELS = Path.of(System.getProperty("sd.testdata", "../testdata"), "golden", "models");

    @TempDir
    Path dir;

    @Test
    void readsAGoldenTextEncoder() throws IOException {
        try (SafeTensors st = SafeTensors.open(MODELS.resolve("tiny-sd1/text_encoder/model.safetensors"))) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals("text_model.embeddings.position_embedding.weight", st.names().getFirst());
            Tensor tokens = st.tensor("text_model.embeddings.token_embedding.weight");
            assertEquals(DType.F32, tokens.dtype());
            assertArrayEquals(new long[] {49408, 32}, tokens.shape());
            assertTrue(st.contains("text_model.final_layer_norm.weight"));
            assertFalse(st.contains("nope"));
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> st.tensor("nope"));
            assertTrue(missing.getMessage().contains("model.safetensors") && missing.getMessage().contains("nope"));
        }
    }

    @Test
    void writeThenReadKeepsNamesOrderValuesAndMetadata() throws IOException {
        Path file = dir.resolve("out.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("z.half", Tensor.allocate(arena, DType.F16, 3));
            tensors.put("a.matrix", Tensor.ofFloats(arena, new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
            tensors.put("scalar", Tensor.ofFloats(arena, new float[] {7}));
            tensors.put("empty", Tensor.allocate(arena, DType.I64, 0, 4));
            DType.F16.writeFloat(tensors.get("z.half").data(), 1, 0.5f);
            SafeTensors.write(file, tensors, Map.of("format", "pt", "quote\"and\\slash", "é\n"));

            try (SafeTensors st = SafeTensors.open(file)) {
                assertEquals(List.copyOf(tensors.keySet()), List.copyOf(st.names()));
                assertEquals(Map.of("format", "pt", "quote\"and\\slash", "é\n"), st.metadata());
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, st.tensor("a.matrix").toFloatArray());
                assertArrayEquals(new float[] {0, 0.5f, 0}, st.tensor("z.half").toFloatArray());
                assertArrayEquals(new long[0], st.tensor("scalar").shape());
                assertArrayEquals(new long[] {0, 4}, st.tensor("empty").shape());
                // Data starts 8-byte aligned and every tensor is aligned to its element size.
                for (String name : st.names()) {
                    Tensor t = st.tensor(name);
                    assertEquals(0, t.data().address() % t.dtype().byteSize(), name);
                }
            }
            long headerLength = java.nio.ByteBuffer.wrap(Files.readAllBytes(file), 0, 8)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, headerLength % 8);
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void closeUnmaps() throws IOException {
        SafeTensors st = SafeTensors.open(MODELS.resolve("tiny-sd1/vae/diffusion_pytorch_model.safetensors"));
        Tensor t = st.tensor("encoder.conv_in.weight");
        t.getFloat(0);
        st.close();
        st.close();
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
    }
}
