package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every golden checkpoint opens, and where the golden set stores the same weights twice (a
 * diffusers folder in fp32 and a single file) the values agree: tiny-sd1.safetensors is the
 * folder rounded to fp16, tiny-sd2v.safetensors the folder in fp32. Names are compared where
 * they agree after stripping the single file's prefix (plus a few README-listed renames); the
 * full UNet name mapping belongs to sd-model.
 */
class GoldenCheckpointsTest {
    static final Path GOLDEN = Path.of(System.getProperty("sd.testdata", "../testdata"), "golden");
    static final Path MODELS = GOLDEN.resolve("models");
    static final List<String> VAE_SAME_NAMES = Stream.of("encoder.conv_in", "encoder.conv_out", "decoder.conv_in",
            "decoder.conv_out", "quant_conv", "post_quant_conv").flatMap(s -> Stream.of(s + ".weight", s + ".bias")).toList();

    @Test
    void everyGoldenSafetensorsFileOpensAndReads() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(GOLDEN)) {
            files = walk.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertTrue(files.size() >= 60, "found only " + files.size() + " golden files under " + GOLDEN);
        for (Path f : files) {
            try (SafeTensors st = SafeTensors.open(f)) {
                assertFalse(st.names().isEmpty(), f.toString());
                for (String name : st.names()) {
                    Tensor t = st.tensor(name);
                    float[] values = t.toFloatArray();
                    assertEquals(t.numel(), values.length);
                }
            }
        }
    }

    /** {@code single} holds {@code folder}'s fp32 values, exactly or rounded to fp16 (round to nearest even). */
    static void assertStoredAs(Tensor folder, Tensor single, String what) {
        assertEquals(DType.F32, folder.dtype(), what);
        assertArrayEquals(folder.shape(), single.shape(), what);
        float[] expected = folder.toFloatArray();
        switch (single.dtype()) {
            case F32 -> assertArrayEquals(expected, single.toFloatArray(), what);
            case F16 -> {
                short[] bits = single.data().toArray(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                for (int i = 0; i < expected.length; i++) {
                    if (bits[i] != Float.floatToFloat16(expected[i])) {
                        throw new AssertionError(what + " element " + i + ": fp32 " + expected[i] + " rounds to fp16 "
                                + Float.float16ToFloat(Float.floatToFloat16(expected[i])) + ", stored "
                                + Float.float16ToFloat(bits[i]));
                    }
                }
            }
            default -> throw new AssertionError(what + ": unexpected dtype " + single.dtype());
        }
    }

    @Test
    void tinySd1SingleFileIsTheFolderInFp16() throws IOException {
        try (SafeTensors single = SafeTensors.open(MODELS.resolve("tiny-sd1.safetensors"));
                SafeTensors text = SafeTensors.open(MODELS.resolve("tiny-sd1/text_encoder/model.safetensors"));
                SafeTensors vae = SafeTensors.open(MODELS.resolve("tiny-sd1/vae/diffusion_pytorch_model.safetensors"));
                SafeTensors unet = SafeTensors.open(MODELS.resolve("tiny-sd1/unet/diffusion_pytorch_model.safetensors"))) {
            assertEquals(980, single.names().size());
            assertTrue(single.metadata().isEmpty());
            int compared = 0;
            for (String name : text.names()) {
                assertStoredAs(text.tensor(name), single.tensor("cond_stage_model.transformer." + name), name);
                compared++;
            }
            assertEquals(text.names().size(), compared);
            for (String name : VAE_SAME_NAMES) {
                assertStoredAs(vae.tensor(name), single.tensor("first_stage_model." + name), name);
            }
            assertUNetEnds(unet, single);
        }
    }

    @Test
    void tinySd2vSingleFileIsTheFolderInFp32() throws IOException {
        try (SafeTensors single = SafeTensors.open(MODELS.resolve("tiny-sd2v.safetensors"));
                SafeTensors text = SafeTensors.open(MODELS.resolve("tiny-sd2v/text_encoder/model.safetensors"));
                SafeTensors vae = SafeTensors.open(MODELS.resolve("tiny-sd2v/vae/diffusion_pytorch_model.safetensors"));
                SafeTensors unet = SafeTensors.open(MODELS.resolve("tiny-sd2v/unet/diffusion_pytorch_model.safetensors"))) {
            for (String name : VAE_SAME_NAMES) {
                assertStoredAs(vae.tensor(name), single.tensor("first_stage_model." + name), name);
            }
            assertUNetEnds(unet, single);
            // The OpenCLIP text tower (README 3.3): a few renames, and q/k/v stacked in one in_proj.
            String open = "cond_stage_model.model.";
            assertStoredAs(text.tensor("text_model.embeddings.token_embedding.weight"),
                    single.tensor(open + "token_embedding.weight"), "token embedding");
            assertStoredAs(text.tensor("text_model.embeddings.position_embedding.weight"),
                    single.tensor(open + "positional_embedding"), "position embedding");
            assertStoredAs(text.tensor("text_model.final_layer_norm.weight"), single.tensor(open + "ln_final.weight"), "ln_final");
            for (int layer = 0; layer < 3; layer++) {
                String hf = "text_model.encoder.layers." + layer + ".";
                String oc = open + "transformer.resblocks." + layer + ".";
                Tensor inProj = single.tensor(oc + "attn.in_proj_weight");
                long width = inProj.dim(1);
                String[] qkv = {"q_proj", "k_proj", "v_proj"};
                for (int i = 0; i < 3; i++) {
                    assertStoredAs(text.tensor(hf + "self_attn." + qkv[i] + ".weight"),
                            inProj.slice(i * width, (i + 1) * width), oc + "in_proj rows of " + qkv[i]);
                }
                assertStoredAs(text.tensor(hf + "mlp.fc1.weight"), single.tensor(oc + "mlp.c_fc.weight"), hf + "fc1");
                assertStoredAs(text.tensor(hf + "layer_norm1.bias"), single.tensor(oc + "ln_1.bias"), hf + "ln_1");
            }
        }
    }

    /** The UNet renames the README lists for the first and last layers. */
    static void assertUNetEnds(SafeTensors unet, SafeTensors single) {
        String[][] pairs = {{"conv_in", "input_blocks.0.0"}, {"conv_out", "out.2"}, {"conv_norm_out", "out.0"},
                {"time_embedding.linear_1", "time_embed.0"}, {"time_embedding.linear_2", "time_embed.2"}};
        for (String[] p : pairs) {
            for (String kind : List.of(".weight", ".bias")) {
                assertStoredAs(unet.tensor(p[0] + kind), single.tensor("model.diffusion_model." + p[1] + kind), p[0] + kind);
            }
        }
    }
}
