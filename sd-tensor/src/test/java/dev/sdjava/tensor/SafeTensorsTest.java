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
        Path plain = Files.write(dir.resolve("plain"), new byte[0]);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(file),
                "a checkpoint gets the permissions of any new file, not a temp file's owner-only ones");
    }

    @Test
    void closeUnmaps() throws IOException {
        SafeTensors st = SafeTensors.open(MODELS.resolve("tiny-sd1/vae/diffusion_pytorch_model.safetensors"));
        Tensor t = st.tensor("encoder.conv_in.weight");
        t.getFloat(0);
        st.close();
        st.close();
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        assertThrows(IllegalStateException.class, () -> st.tensor("encoder.conv_in.weight"));
    }

    /** Splits the golden UNet into two shards plus an index, as diffusers saves large models. */
    Path shardedUNet(String secondShardEntry) throws IOException {
        try (SafeTensors unet = SafeTensors.open(MODELS.resolve("tiny-sd1/unet/diffusion_pytorch_model.safetensors"))) {
            Map<String, Tensor> first = new LinkedHashMap<>();
            Map<String, Tensor> second = new LinkedHashMap<>();
            StringBuilder weightMap = new StringBuilder();
            int i = 0;
            for (String name : unet.names()) {
                boolean inFirst = i++ % 2 == 0;
                (inFirst ? first : second).put(name, unet.tensor(name));
                weightMap.append(weightMap.isEmpty() ? "" : ",\n").append("    \"").append(name).append("\": \"")
                        .append(inFirst ? "unet-00001-of-00002.safetensors" : secondShardEntry).append('"');
            }
            SafeTensors.write(dir.resolve("unet-00001-of-00002.safetensors"), first, Map.of("format", "pt"));
            SafeTensors.write(dir.resolve("unet-00002-of-00002.safetensors"), second, Map.of("format", "pt"));
            Path index = dir.resolve("diffusion_pytorch_model.safetensors.index.json");
            Files.writeString(index, "{\n  \"metadata\": {\"total_size\": 12882432},\n  \"weight_map\": {\n"
                    + weightMap + "\n  }\n}\n");
            return index;
        }
    }

    @Test
    void aShardedCheckpointOpensAsOne() throws IOException {
        Path index = shardedUNet("unet-00002-of-00002.safetensors");
        Tensor fromShard;
        try (SafeTensors whole = SafeTensors.open(MODELS.resolve("tiny-sd1/unet/diffusion_pytorch_model.safetensors"));
                SafeTensors sharded = SafeTensors.open(index)) {
            assertEquals(index, sharded.path());
            assertEquals(List.copyOf(whole.names()), List.copyOf(sharded.names()));
            assertEquals(Map.of("total_size", "12882432"), sharded.metadata());
            for (String name : whole.names()) {
                assertArrayEquals(whole.tensor(name).toFloatArray(), sharded.tensor(name).toFloatArray(), name);
            }
            fromShard = sharded.tensor(sharded.names().getLast());
        }
        assertThrows(IllegalStateException.class, () -> fromShard.getFloat(0), "closing unmaps every shard");
    }

    @Test
    void aBrokenShardedCheckpointNamesTheIndexOrShard() throws IOException {
        SafeTensorsFormatException outside = assertThrows(SafeTensorsFormatException.class,
                () -> SafeTensors.open(shardedUNet("../unet-00002-of-00002.safetensors")));
        assertTrue(outside.getMessage().contains("outside"), outside.getMessage());

        Path index = shardedUNet("unet-00001-of-00002.safetensors"); // odd tensors sent to the wrong shard
        SafeTensorsFormatException wrong = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(index));
        assertEquals(index, wrong.file());
        assertTrue(wrong.getMessage().contains("has no such tensor") && wrong.tensor() != null, wrong.getMessage());

        Path shard = dir.resolve("unet-00002-of-00002.safetensors");
        shardedUNet("unet-00002-of-00002.safetensors");
        Files.write(shard, new byte[] {1, 2, 3});
        SafeTensorsFormatException broken = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(index));
        assertEquals(shard, broken.file());

        Files.delete(shard);
        assertThrows(java.nio.file.NoSuchFileException.class, () -> SafeTensors.open(index));

        Files.writeString(index, "{\"weight_map\": [] }");
        assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(index));
    }

    /** Offsets past 2 GiB work (a sparse file: the 3 GB of zeros take no disk). */
    @Test
    void readsTensorsBeyondTwoGigabytes() throws IOException {
        long big = 3_000_000_000L;
        String header = "{\"big\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + big + "," + (big + 4) + "]}}";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path file = dir.resolve("big.safetensors");
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.SPARSE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.write(b.putLong(h.length).put(h).flip(), 0);
            ch.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 2.5f), 8 + h.length + big);
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(big, st.tensor("big").byteSize());
            assertEquals(0f, st.tensor("big").getFloat(big - 1));
            assertArrayEquals(new float[] {2.5f}, st.tensor("tail").toFloatArray());
        }
    }
}
