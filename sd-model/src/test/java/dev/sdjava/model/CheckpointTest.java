package dev.sdjava.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.TextEncoderConfig.Activation;
import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void sd1SingleFileHoldsTheFolderWeightsRoundedToF16() {
        try (Checkpoint folder = Checkpoint.open(TestData.model("tiny-sd1"));
             Checkpoint single = Checkpoint.open(TestData.model("tiny-sd1.safetensors"), TestData.singleFileOptions())) {
            for (Component c : Component.values()) {
                Weights f = folder.weights(c);
                Weights s = single.weights(c);
                assertEquals(new TreeSet<>(f.names()), new TreeSet<>(s.names()), c + ": names after the mapping");
                for (String name : f.names()) {
                    Tensor expected = f.get(name);
                    Tensor actual = s.get(name);
                    assertEquals(DType.F32, expected.dtype());
                    assertEquals(DType.F16, actual.dtype(), name + " stays F16, mapped");
                    assertArrayEquals(expected.shape(), actual.shape(), name);
                    for (long i = 0; i < expected.numel(); i++) {
                        short want = Float.floatToFloat16(expected.getFloat(i));
                        short got = actual.data().get(SHORT_LE, 2 * i);
                        if (want != got) {
                            throw new AssertionError(c + " " + name + "[" + i + "]: stored f16 " + Integer.toHexString(got & 0xffff)
                                    + ", folder value " + expected.getFloat(i) + " rounds to " + Integer.toHexString(want & 0xffff));
                        }
                    }
                }
            }
            assertEquals(List.of(), single.ignored());
            assertEquals(List.of(), folder.ignored());
        }
    }

    @Test
    void sd2vSingleFileEqualsTheFolderAfterSplittingInProj() {
        try (Checkpoint folder = Checkpoint.open(TestData.model("tiny-sd2v"));
             Checkpoint single = Checkpoint.open(TestData.model("tiny-sd2v.safetensors"), TestData.singleFileOptions())) {
            for (Component c : Component.values()) {
                Weights f = folder.weights(c);
                Weights s = single.weights(c);
                assertEquals(new TreeSet<>(f.names()), new TreeSet<>(s.names()), c + ": names after the mapping");
                for (String name : f.names()) {
                    Tensor expected = f.get(name);
                    Tensor actual = s.get(name);
                    assertEquals(DType.F32, actual.dtype());
                    assertArrayEquals(expected.shape(), actual.shape(), name);
                    for (long i = 0; i < expected.numel(); i++) {
                        if (expected.data().get(INT_LE, 4 * i) != actual.data().get(INT_LE, 4 * i)) {
                            throw new AssertionError(c + " " + name + "[" + i + "]: " + actual.getFloat(i) + " != " + expected.getFloat(i));
                        }
                    }
                }
            }
            // Only the documented unused tensors: the 4th OpenCLIP block (SD 2 runs the penultimate), the projection, the scale.
            Set<String> ignored = new TreeSet<>(single.ignored());
            assertTrue(ignored.remove("cond_stage_model.model.text_projection"), "text_projection ignored");
            assertTrue(ignored.remove("cond_stage_model.model.logit_scale"), "logit_scale ignored");
            assertEquals(12, ignored.size(), "the unused block's 12 tensors: " + ignored);
            assertTrue(ignored.stream().allMatch(n -> n.startsWith("cond_stage_model.model.transformer.resblocks.3.")), ignored::toString);
        }
    }

    @Test
    void configsAreReadFromTensorsAndConfigFiles() {
        for (Path path : List.of(TestData.model("tiny-sd1"), TestData.model("tiny-sd1.safetensors"))) {
            try (Checkpoint cp = Checkpoint.open(path, TestData.singleFileOptions())) {
                ModelConfig config = cp.config();
                assertEquals(ModelFamily.SD1, config.family(), path.toString());
                assertEquals(PredictionType.EPSILON, config.predictionType(), path.toString());
                assertHeads(config, 2, 2, 2, 2);
                assertArrayEquals(new int[] {32, 64, 64, 64}, config.unet().blockWidths());
                assertArrayEquals(new boolean[] {true, true, true, false}, config.unet().attention());
                assertEquals(2, config.unet().layersPerBlock());
                assertEquals(32, config.unet().crossAttentionDim());
                assertEquals(false, config.unet().linearProjection());
                assertEquals(4, config.unet().inChannels());
                assertEquals(new TextEncoderConfig(49408, 77, 32, 3, 4, 64, Activation.QUICK_GELU, 1e-5f), config.textEncoder());
                assertArrayEquals(new int[] {32, 32, 64, 64}, config.vae().blockWidths());
                assertEquals(4, config.vae().latentChannels());
                assertEquals(0.18215f, config.vaeScalingFactor());
                assertEquals(1000, config.scheduler().numTrainTimesteps());
                assertEquals(0.00085, config.scheduler().betaStart(), 1e-12);
                assertEquals(0.012, config.scheduler().betaEnd(), 1e-12);
                assertEquals("scaled_linear", config.scheduler().betaSchedule());
                assertEquals(1, config.scheduler().stepsOffset());
                assertEquals(false, config.scheduler().setAlphaToOne());
                assertNull(config.scheduler().timestepSpacing());
                assertEquals(64, config.imageSize(), "unet/config.json sample_size 8 / the yaml's image_size 8");
            }
        }
        try (Checkpoint cp = Checkpoint.open(TestData.model("tiny-sd1"))) {
            assertEquals("PNDMScheduler", cp.config().scheduler().className());
        }
        for (Path path : List.of(TestData.model("tiny-sd2v"), TestData.model("tiny-sd2v.safetensors"))) {
            try (Checkpoint cp = Checkpoint.open(path, TestData.singleFileOptions())) {
                ModelConfig config = cp.config();
                assertEquals(ModelFamily.SD2, config.family(), path.toString());
                assertEquals(PredictionType.V_PREDICTION, config.predictionType(), path.toString());
                assertHeads(config, 2, 4, 4, 4); // folder: [2, 4, 4, 4] heads; yaml: head size 16
                assertEquals(true, config.unet().linearProjection());
                assertEquals(64, config.unet().crossAttentionDim());
                assertEquals(new TextEncoderConfig(49408, 77, 64, 3, 4, 128, Activation.GELU, 1e-5f), config.textEncoder());
            }
        }
        try (Checkpoint cp = Checkpoint.open(TestData.model("tiny-sd2v"))) {
            assertEquals("DDIMScheduler", cp.config().scheduler().className());
            assertEquals(AttentionHeads.perLevel(2, 4, 4, 4).toString(), cp.config().unetHeads().toString());
        }
    }

    private static void assertHeads(ModelConfig config, int... perLevel) {
        int[] widths = config.unet().blockWidths();
        for (int level = 0; level < widths.length; level++) {
            assertEquals(perLevel[level], config.unetHeads().heads(level, widths[level]), "heads at level " + level);
        }
    }

    @Test
    void singleFilesWithoutYamlGetTheFamilyDefaults(@TempDir Path tmp) throws IOException {
        Path sd1 = Files.copy(TestData.model("tiny-sd1.safetensors"), tmp.resolve("a.safetensors"));
        try (Checkpoint cp = Checkpoint.open(sd1, TestData.singleFileOptions())) {
            assertEquals(PredictionType.EPSILON, cp.config().predictionType());
            assertEquals(AttentionHeads.perLevel(8).toString(), cp.config().unetHeads().toString());
            assertEquals(512, cp.config().imageSize());
        }
        Path sd2 = Files.copy(TestData.model("tiny-sd2v.safetensors"), tmp.resolve("b.safetensors"));
        try (Checkpoint cp = Checkpoint.open(sd2, TestData.singleFileOptions())) {
            assertEquals(PredictionType.V_PREDICTION, cp.config().predictionType());
            assertEquals(AttentionHeads.ofHeadDim(64).toString(), cp.config().unetHeads().toString());
            assertEquals(768, cp.config().imageSize());
        }
        try (Checkpoint cp = Checkpoint.open(sd2, TestData.singleFileOptions().withPredictionType(PredictionType.EPSILON))) {
            assertEquals(512, cp.config().imageSize(), "SD 2.x base");
        }
        // A yaml elsewhere, given explicitly; and one that contradicts the tensors.
        try (Checkpoint cp = Checkpoint.open(sd2, TestData.singleFileOptions().withLdmConfig(TestData.model("tiny-sd2v.yaml")))) {
            assertEquals(PredictionType.V_PREDICTION, cp.config().predictionType());
            assertEquals(AttentionHeads.ofHeadDim(16).toString(), cp.config().unetHeads().toString());
        }
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> Checkpoint.open(sd2, TestData.singleFileOptions().withLdmConfig(TestData.model("tiny-sd1.yaml"))));
        assertTrue(e.getMessage().contains("tiny-sd1.yaml says context_dim 32, but the U-Net's cross-attention takes 64"), e.getMessage());
    }

    @Test
    void optionsOverrideWhatConfigsSay() {
        LoadOptions options = TestData.singleFileOptions().withPredictionType(PredictionType.V_PREDICTION)
                .withUnetHeads(AttentionHeads.ofHeadDim(8));
        try (Checkpoint cp = Checkpoint.open(TestData.model("tiny-sd1.safetensors"), options)) {
            assertEquals(PredictionType.V_PREDICTION, cp.config().predictionType());
            assertEquals(4, cp.config().unetHeads().heads(0, 32));
        }
    }

    @Test
    void folderTextEncoderWithoutTextModelPrefixAndBf16StorageLoad(@TempDir Path tmp) throws IOException {
        Path src = TestData.model("tiny-sd1");
        Path dst = tmp.resolve("tiny-sd1");
        copyFolderExcept(src, dst, Path.of("text_encoder", "model.safetensors"));
        // transformers >= 5.6 writes CLIPTextModel without the "text_model." prefix; store it as BF16 too.
        try (SafeTensors text = SafeTensors.open(src.resolve("text_encoder/model.safetensors")); Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            for (String name : text.names()) {
                renamed.put(name.substring("text_model.".length()), toBf16(text.tensor(name), arena));
            }
            SafeTensors.write(dst.resolve("text_encoder/model.safetensors"), renamed, Map.of());
        }
        try (Checkpoint original = Checkpoint.open(src); Checkpoint rewritten = Checkpoint.open(dst)) {
            Weights a = original.textEncoder();
            Weights b = rewritten.textEncoder();
            assertEquals(new TreeSet<>(a.names()), new TreeSet<>(b.names()));
            for (String name : a.names()) {
                Tensor t = b.get(name);
                assertEquals(DType.BF16, t.dtype(), "kept in its stored dtype");
                for (long i = 0; i < t.numel(); i++) {
                    assertEquals(DType.bf16ToFloat(DType.floatToBf16(a.get(name).getFloat(i))), t.getFloat(i), name);
                }
            }
        }
    }

    @Test
    void shardedFolderComponentsLoadThroughTheirIndex(@TempDir Path tmp) throws IOException {
        Path src = TestData.model("tiny-sd2v");
        Path dst = tmp.resolve("tiny-sd2v");
        copyFolderExcept(src, dst, Path.of("unet", "diffusion_pytorch_model.safetensors"));
        StringBuilder weightMap = new StringBuilder();
        try (SafeTensors unet = SafeTensors.open(src.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            List<String> names = new ArrayList<>(unet.names());
            for (int shard = 0; shard < 2; shard++) {
                String file = "diffusion_pytorch_model-0000" + (shard + 1) + "-of-00002.safetensors";
                Map<String, Tensor> part = new LinkedHashMap<>();
                for (String name : names.subList(shard * names.size() / 2, (shard + 1) * names.size() / 2)) {
                    part.put(name, unet.tensor(name));
                    weightMap.append(weightMap.isEmpty() ? "" : ",").append('"').append(name).append("\":\"").append(file).append('"');
                }
                SafeTensors.write(dst.resolve("unet").resolve(file), part, Map.of());
            }
        }
        Files.writeString(dst.resolve("unet/diffusion_pytorch_model.safetensors.index.json"),
                "{\"metadata\": {}, \"weight_map\": {" + weightMap + "}}");
        try (Checkpoint original = Checkpoint.open(src); Checkpoint sharded = Checkpoint.open(dst)) {
            assertEquals(new TreeSet<>(original.unet().names()), new TreeSet<>(sharded.unet().names()));
            assertEquals(original.config().unet().toString(), sharded.config().unet().toString());
            String probe = "up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_k.weight";
            assertArrayEquals(original.unet().get(probe).toFloatArray(), sharded.unet().get(probe).toFloatArray());
        }
    }

    private static void copyFolderExcept(Path src, Path dst, Path skipped) throws IOException {
        try (Stream<Path> files = Files.walk(src)) {
            for (Path p : files.toList()) {
                Path target = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.endsWith(skipped)) {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static Tensor toBf16(Tensor t, Arena arena) {
        Tensor out = Tensor.allocate(arena, DType.BF16, t.shape());
        for (long i = 0; i < t.numel(); i++) {
            DType.BF16.writeFloat(out.data(), i, t.getFloat(i));
        }
        return out;
    }

    // ---- errors name every offending tensor ----

    @Test
    void missingMisshapedAndUnexpectedTensorsAreAllListed(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("bad.safetensors");
        List<String> dropped = List.of("model.diffusion_model.input_blocks.4.0.in_layers.2.weight",
                "first_stage_model.decoder.up.1.block.0.nin_shortcut.bias",
                "cond_stage_model.transformer.text_model.encoder.layers.1.mlp.fc2.bias");
        String reshaped = "model.diffusion_model.output_blocks.5.1.proj_in.weight";
        String extra = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn3.to_q.weight";
        String integer = "model.diffusion_model.out.0.bias";
        try (SafeTensors good = SafeTensors.open(TestData.model("tiny-sd1.safetensors")); Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : good.names()) {
                if (!dropped.contains(name)) {
                    Tensor t = good.tensor(name);
                    tensors.put(name, name.equals(reshaped) ? t.reshape(t.dim(0), t.dim(1)) : t);
                }
            }
            tensors.put(extra, Tensor.allocate(arena, DType.F16, 64, 64));
            tensors.put(integer, Tensor.allocate(arena, DType.I32, 32)); // replaces the F16 bias
            tensors.put("model_ema.decay", Tensor.allocate(arena, DType.F32)); // harmless extras real files carry
            tensors.put("first_stage_model.loss.logvar", Tensor.allocate(arena, DType.F32));
            SafeTensors.write(bad, tensors, Map.of());
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(bad, TestData.singleFileOptions()));
        String message = e.getMessage();
        assertTrue(message.contains(bad.toString()), message);
        for (String name : dropped) {
            assertTrue(message.contains(name), "names missing " + name + ":\n" + message);
        }
        assertTrue(message.contains("(down_blocks.1.resnets.0.conv1.weight)"), "gives the diffusers name too:\n" + message);
        assertTrue(message.contains(reshaped + " (up_blocks.1.attentions.2.proj_in.weight) is [64, 64], expected [64, 64, 1, 1]"), message);
        assertTrue(message.contains(extra), message);
        assertTrue(message.contains(integer + " (conv_norm_out.bias) is I32, expected a floating-point type"), message);
        assertTrue(!message.contains("model_ema") && !message.contains("loss.logvar"), message);
    }

    @Test
    void aFileOfOtherTensorsSaysWhatItFound(@TempDir Path tmp) throws IOException {
        Path other = tmp.resolve("llm.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            tensors.put("transformer.h.0.attn.c_attn.weight", Tensor.allocate(arena, DType.F32, 4, 4));
            tensors.put("transformer.wte.weight", Tensor.allocate(arena, DType.F32, 10, 4));
            SafeTensors.write(other, tensors, Map.of());
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(other));
        assertTrue(e.getMessage().contains(other.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("transformer.h.0.attn.c_attn.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("transformer.wte.weight"), e.getMessage());

        Path garbage = tmp.resolve("garbage.safetensors");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        e = assertThrows(CheckpointException.class, () -> Checkpoint.open(garbage));
        assertTrue(e.getMessage().contains(garbage.toString()), e.getMessage());
    }

    @Test
    void aFileWithoutAComponentNamesWhatIsThere(@TempDir Path tmp) throws IOException {
        Path unetOnly = tmp.resolve("unet-only.safetensors");
        try (SafeTensors good = SafeTensors.open(TestData.model("tiny-sd1.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            good.names().stream().filter(n -> n.startsWith("model.diffusion_model.")).forEach(n -> tensors.put(n, good.tensor(n)));
            SafeTensors.write(unetOnly, tensors, Map.of());
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(unetOnly));
        assertTrue(e.getMessage().contains("no text encoder, no VAE tensors"), e.getMessage());
        assertTrue(e.getMessage().contains("U-Net (684 tensors)"), e.getMessage());
    }

    @Test
    void aFolderWithoutModelIndexSaysWhatItHolds(@TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("unet"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(tmp));
        assertTrue(e.getMessage().contains("model_index.json") && e.getMessage().contains("unet/"), e.getMessage());
    }

    @Test
    void mappingIsExactInBothDirections() {
        List<String> names = new ArrayList<>();
        try (SafeTensors st = SafeTensors.open(TestData.model("tiny-sd1.safetensors"))) {
            names.addAll(st.names());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        NameMapping mapping = NameMapping.forSingleFile(names);
        for (String name : names) {
            NameMapping.Target t = mapping.translate(name);
            assertEquals(name, mapping.fileName(t.component(), t.name()), "round trip of " + name);
        }
        assertEquals("up_blocks.0.upsamplers.0.conv.weight",
                mapping.translate("model.diffusion_model.output_blocks.2.1.conv.weight").name());
        assertEquals("up_blocks.1.upsamplers.0.conv.weight",
                mapping.translate("model.diffusion_model.output_blocks.5.2.conv.weight").name());
        assertEquals("decoder.up_blocks.3.resnets.2.conv1.weight",
                mapping.translate("first_stage_model.decoder.up.0.block.2.conv1.weight").name());
        assertNull(mapping.translate("alphas_cumprod"));
    }
}
