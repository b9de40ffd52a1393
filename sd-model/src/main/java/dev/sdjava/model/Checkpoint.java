package dev.sdjava.model;

import dev.sdjava.model.TextEncoderConfig.Activation;
import dev.sdjava.tensor.Json;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Stable Diffusion 1.x / 2.x checkpoint opened for inference: its text encoder, U-Net and VAE
 * tensors under diffusers names, memory-mapped in their stored dtype (F32, F16, BF16), and the
 * configuration detected from the tensors and the configs beside them. Opens either
 *
 * <ul>
 *   <li>a diffusers folder ({@code model_index.json}, per-component {@code config.json} and weights,
 *       possibly sharded), or
 *   <li>a single original-layout file (CompVis/A1111 names; SD 2's OpenCLIP text tower), with an LDM
 *       yaml of the same base name beside it if there is one.
 * </ul>
 *
 * Nothing is trusted: every missing, unexpected or mis-shaped tensor is reported at once, by the name
 * the file uses. Close it to unmap the files; the weights must not be used afterwards.
 */
public final class Checkpoint implements AutoCloseable {
    private static final String[] FOLDER_WEIGHTS = {
        "diffusion_pytorch_model.safetensors", "model.safetensors",
        "diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
    };

    private final Path path;
    private final List<SafeTensors> files;
    private final Map<Component, Weights> weights;
    private final ModelConfig config;
    private final List<String> ignored;

    private Checkpoint(Path path, List<SafeTensors> files, Map<Component, Weights> weights, ModelConfig config, List<String> ignored) {
        this.path = path;
        this.files = files;
        this.weights = weights;
        this.config = config;
        this.ignored = List.copyOf(ignored);
    }

    public static Checkpoint open(Path path) {
        return open(path, LoadOptions.defaults());
    }

    /** Opens a diffusers folder (or its {@code model_index.json}) or a single {@code .safetensors} file. */
    public static Checkpoint open(Path path, LoadOptions options) {
        if (Files.isDirectory(path)) {
            return openFolder(path, options);
        }
        if (path.getFileName() != null && path.getFileName().toString().equals("model_index.json")) {
            return openFolder(path.toAbsolutePath().getParent(), options);
        }
        return openSingleFile(path, options);
    }

    public Path path() {
        return path;
    }

    /** The CLIP text encoder, HF CLIPTextModel names ({@code text_model.encoder.layers.0.self_attn.q_proj.weight}). */
    public Weights textEncoder() {
        return weights.get(Component.TEXT_ENCODER);
    }

    /** The U-Net, diffusers UNet2DConditionModel names ({@code down_blocks.0.resnets.0.conv1.weight}). */
    public Weights unet() {
        return weights.get(Component.UNET);
    }

    /** The VAE, diffusers AutoencoderKL names ({@code decoder.up_blocks.0.resnets.0.conv1.weight}). */
    public Weights vae() {
        return weights.get(Component.VAE);
    }

    public Weights weights(Component component) {
        return weights.get(component);
    }

    public ModelConfig config() {
        return config;
    }

    /**
     * The stored tensors no network reads, by their file names: extras real checkpoints carry
     * ({@code model_ema.*}, {@code alphas_cumprod}, ...) and SD 2's last OpenCLIP block, text_projection
     * and logit_scale.
     */
    public List<String> ignored() {
        return ignored;
    }

    @Override
    public void close() {
        files.forEach(SafeTensors::close);
    }

    @Override
    public String toString() {
        return "Checkpoint[" + path + ", " + config.family() + "]";
    }

    // ---- single file ----

    private static Checkpoint openSingleFile(Path file, LoadOptions options) {
        SafeTensors st = openSafeTensors(file);
        try {
            NameMapping mapping = NameMapping.forSingleFile(st.names());
            Parts parts = new Parts();
            for (Component c : Component.values()) {
                parts.mapping(c, mapping);
            }
            parts.addAll(mapping, st, file.toString());
            if (parts.isEmpty()) {
                throw new CheckpointException(file + " is not a Stable Diffusion 1.x/2.x checkpoint: none of its " + st.names().size()
                        + " tensors is named like a U-Net (" + NameMapping.UNET + "*), VAE (" + NameMapping.VAE
                        + "*) or text encoder (" + NameMapping.CLIP + "*, " + NameMapping.OPEN_CLIP + "*); it begins with "
                        + firstNames(st.names()));
            }
            parts.requireAll(file);

            Path yamlPath = options.ldmConfig() != null ? options.ldmConfig() : sibling(file, ".yaml");
            LdmYaml yaml = yamlPath != null && Files.isRegularFile(yamlPath) ? LdmYaml.read(yamlPath) : null;
            if (options.ldmConfig() != null && yaml == null) {
                throw new CheckpointException("LDM config " + options.ldmConfig() + " does not exist");
            }
            UNetConfig unet = UNetConfig.detect(parts.tensors(Component.UNET));
            ModelFamily family = unet.family();
            boolean openClip = NameMapping.hasPrefix(st.names(), NameMapping.OPEN_CLIP);

            AttentionHeads heads = family.defaultHeads();
            PredictionType prediction = family == ModelFamily.SD1 ? PredictionType.EPSILON : PredictionType.V_PREDICTION;
            SchedulerConfig scheduler = SchedulerConfig.stableDiffusion(prediction);
            float vaeScale = VaeConfig.DEFAULT_SCALING_FACTOR;
            if (yaml != null) {
                Double headChannels = yaml.number("num_head_channels");
                Double numHeads = yaml.number("num_heads");
                if (headChannels != null && headChannels > 0) {
                    heads = AttentionHeads.ofHeadDim(headChannels.intValue());
                } else if (numHeads != null && numHeads > 0) {
                    heads = AttentionHeads.perLevel(numHeads.intValue());
                }
                // An LDM yaml without "parameterization" means the LatentDiffusion default, epsilon.
                prediction = "v".equals(yaml.string("parameterization")) ? PredictionType.V_PREDICTION : PredictionType.EPSILON;
                scheduler = new SchedulerConfig(null, orDefault(yaml.number("timesteps"), 1000).intValue(),
                        orDefault(yaml.number("linear_start"), scheduler.betaStart()), orDefault(yaml.number("linear_end"), scheduler.betaEnd()),
                        "scaled_linear", prediction, 1, false, null);
                vaeScale = orDefault(yaml.number("scale_factor"), (double) vaeScale).floatValue();
                Double contextDim = yaml.number("context_dim");
                if (contextDim != null && contextDim.intValue() != unet.crossAttentionDim()) {
                    parts.note(yaml.path() + " says context_dim " + contextDim.intValue() + ", but the U-Net's cross-attention takes "
                            + unet.crossAttentionDim());
                }
            }
            Activation activation = openClip ? Activation.GELU : Activation.QUICK_GELU;
            // the first image_size of an LDM yaml is the latent side (v1-inference.yaml: 64)
            Double imageSize = yaml != null ? yaml.number("image_size") : null;
            return parts.finish(file, List.of(st), options, family, unet, heads, options.textEncoderHeads(), activation, 1e-5f,
                    scheduler, vaeScale, imageSize != null ? imageSize.intValue() : null);
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    private static Double orDefault(Double value, double fallback) {
        return value != null ? value : fallback;
    }

    private static Path sibling(Path file, String extension) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + extension);
    }

    // ---- diffusers folder ----

    private static Checkpoint openFolder(Path dir, LoadOptions options) {
        if (!Files.isRegularFile(dir.resolve("model_index.json"))) {
            throw new CheckpointException(dir + " is not a diffusers pipeline folder: it has no model_index.json (it holds "
                    + listing(dir) + ")");
        }
        List<SafeTensors> opened = new ArrayList<>();
        try {
            Parts parts = new Parts();
            for (Component c : Component.values()) {
                Path file = weightsFile(dir.resolve(c.folder()));
                SafeTensors st = openSafeTensors(file);
                opened.add(st);
                NameMapping mapping = NameMapping.forFolder(c);
                parts.mapping(c, mapping);
                parts.addAll(mapping, st, file.toString());
            }
            parts.requireAll(dir);

            Map<String, Object> textJson = optionalJson(dir.resolve("text_encoder/config.json"));
            Map<String, Object> unetJson = optionalJson(dir.resolve("unet/config.json"));
            Map<String, Object> vaeJson = optionalJson(dir.resolve("vae/config.json"));
            Map<String, Object> schedulerJson = optionalJson(dir.resolve("scheduler/scheduler_config.json"));

            UNetConfig unet = UNetConfig.detect(parts.tensors(Component.UNET));
            ModelFamily family = unet.family();
            AttentionHeads heads = unetHeads(unetJson, dir.resolve("unet/config.json"));
            if (heads == null) {
                heads = family.defaultHeads();
            }
            Integer textHeads = integer(textJson, "num_attention_heads");
            String act = textJson.get("hidden_act") instanceof String s ? s : (family == ModelFamily.SD1 ? "quick_gelu" : "gelu");
            Activation activation = switch (act) {
                case "quick_gelu" -> Activation.QUICK_GELU;
                case "gelu" -> Activation.GELU;
                default -> throw new CheckpointException(dir.resolve("text_encoder/config.json") + ": hidden_act \"" + act
                        + "\" is not supported (quick_gelu or gelu)");
            };
            float eps = textJson.get("layer_norm_eps") instanceof Number d ? d.floatValue() : 1e-5f;
            float vaeScale = vaeJson.get("scaling_factor") instanceof Number d ? d.floatValue() : VaeConfig.DEFAULT_SCALING_FACTOR;
            SchedulerConfig scheduler = scheduler(schedulerJson, dir.resolve("scheduler/scheduler_config.json"));
            return parts.finish(dir, opened, options, family, unet, heads, textHeads, activation, eps, scheduler, vaeScale,
                    integer(unetJson, "sample_size"));
        } catch (RuntimeException e) {
            opened.forEach(SafeTensors::close);
            throw e;
        }
    }

    /** The component's weights: the plain file, else a shard index, else the one {@code .safetensors} there. */
    private static Path weightsFile(Path componentDir) {
        for (String name : FOLDER_WEIGHTS) {
            Path p = componentDir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        List<Path> candidates;
        try (Stream<Path> list = Files.list(componentDir)) {
            candidates = list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException("cannot list " + componentDir + ": " + e.getMessage(), e);
        }
        if (candidates.size() == 1) {
            return candidates.getFirst(); // e.g. a variant such as diffusion_pytorch_model.fp16.safetensors
        }
        throw new CheckpointException(componentDir + ": expected one of " + String.join(", ", FOLDER_WEIGHTS)
                + (candidates.isEmpty() ? "" : " or a single .safetensors file") + "; it holds " + listing(componentDir)
                + " (PyTorch .bin files are not supported: convert them to safetensors)");
    }

    private static AttentionHeads unetHeads(Map<String, Object> unetJson, Path source) {
        // diffusers' "attention_head_dim" is, despite its name, the number of heads; newer configs may
        // set "num_attention_heads" instead, which then wins.
        Object value = unetJson.get("num_attention_heads");
        if (value == null || value == Json.NULL) {
            value = unetJson.get("attention_head_dim");
        }
        if (value == null || value == Json.NULL) {
            return null;
        }
        if (value instanceof Number d) {
            return AttentionHeads.perLevel(d.intValue());
        }
        if (value instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(Number.class::isInstance)) {
            return AttentionHeads.perLevel(list.stream().mapToInt(o -> ((Number) o).intValue()).toArray());
        }
        throw new CheckpointException(source + ": attention_head_dim should be a number or a list of numbers, is " + value);
    }

    private static SchedulerConfig scheduler(Map<String, Object> json, Path source) {
        SchedulerConfig d = SchedulerConfig.stableDiffusion(PredictionType.EPSILON);
        if (json.isEmpty()) {
            return d;
        }
        // diffusers' default prediction_type, and what SD 1.x files that predate the key mean.
        PredictionType prediction = json.get("prediction_type") instanceof String s
                ? PredictionType.fromDiffusers(s, source.toString()) : PredictionType.EPSILON;
        return new SchedulerConfig(
                json.get("_class_name") instanceof String s ? s : null,
                json.get("num_train_timesteps") instanceof Number n ? n.intValue() : d.numTrainTimesteps(),
                json.get("beta_start") instanceof Number n ? n.doubleValue() : d.betaStart(),
                json.get("beta_end") instanceof Number n ? n.doubleValue() : d.betaEnd(),
                json.get("beta_schedule") instanceof String s ? s : d.betaSchedule(),
                prediction,
                json.get("steps_offset") instanceof Number n ? n.intValue() : 0, // diffusers' default when absent
                json.get("set_alpha_to_one") instanceof Boolean b ? b : d.setAlphaToOne(),
                json.get("timestep_spacing") instanceof String s ? s : null);
    }

    private static Map<String, Object> optionalJson(Path path) {
        if (!Files.isRegularFile(path)) {
            return Map.of();
        }
        Object json;
        try {
            json = Json.read(path);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (Json.ParseException e) {
            throw new CheckpointException(e.getMessage(), e); // the message names the file and position
        }
        if (!(json instanceof Map<?, ?>)) {
            throw new CheckpointException(path + ": expected one JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> object = (Map<String, Object>) json;
        return object;
    }

    private static Integer integer(Map<String, Object> json, String key) {
        return json.get(key) instanceof Number d ? d.intValue() : null;
    }

    private static SafeTensors openSafeTensors(Path file) {
        try {
            return SafeTensors.open(file);
        } catch (IOException e) {
            throw new CheckpointException("cannot open " + file + ": " + e, e);
        } catch (RuntimeException e) {
            throw new CheckpointException(file + " is not a readable .safetensors file: " + e.getMessage(), e);
        }
    }

    private static String listing(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            List<String> names = list.map(p -> p.getFileName() + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
            return names.isEmpty() ? "nothing" : String.join(", ", names);
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static String firstNames(Collection<String> names) {
        List<String> first = names.stream().limit(8).toList();
        return String.join(", ", first) + (names.size() > first.size() ? ", ..." : "");
    }

    /** The tensors being gathered, per component, with the file names they had, and every problem found. */
    private static final class Parts {
        private final Map<Component, Map<String, Tensor>> tensors = new EnumMap<>(Component.class);
        private final Map<Component, Map<String, String>> fileNames = new EnumMap<>(Component.class);
        private final Map<Component, NameMapping> mappings = new EnumMap<>(Component.class);
        private final Map<Component, String> sources = new EnumMap<>(Component.class);
        private final List<String> ignored = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();

        Parts() {
            for (Component c : Component.values()) {
                tensors.put(c, new LinkedHashMap<>());
                fileNames.put(c, new HashMap<>());
            }
        }

        /** The mapping whose names messages about {@code c} use. */
        void mapping(Component c, NameMapping mapping) {
            mappings.put(c, mapping);
        }

        /** Translates every tensor of {@code st} and files it under its component, or as ignored. */
        void addAll(NameMapping mapping, SafeTensors st, String source) {
            for (String name : st.names()) {
                NameMapping.Target target = mapping.translate(name);
                if (target == null || target.name().isEmpty()) {
                    ignored.add(name);
                    continue;
                }
                Component c = target.component();
                sources.putIfAbsent(c, source);
                NameMapping.present(target, st.tensor(name), (diffusersName, t) -> {
                    if (tensors.get(c).put(diffusersName, t) != null) {
                        notes.add(source + ": " + name + " and " + fileNames.get(c).get(diffusersName) + " are both " + diffusersName);
                    }
                    fileNames.get(c).put(diffusersName, name);
                });
            }
        }

        boolean isEmpty() {
            return tensors.values().stream().allMatch(Map::isEmpty);
        }

        Map<String, Tensor> tensors(Component c) {
            return tensors.get(c);
        }

        void note(String problem) {
            notes.add(problem);
        }

        /** Fails, naming what is there, when a whole component is absent. */
        void requireAll(Path where) {
            List<String> absent = new ArrayList<>();
            for (Component c : Component.values()) {
                if (tensors.get(c).isEmpty()) {
                    absent.add(c.toString());
                }
            }
            if (!absent.isEmpty()) {
                String present = Stream.of(Component.values()).filter(c -> !tensors.get(c).isEmpty())
                        .map(c -> c + " (" + tensors.get(c).size() + " tensors)").collect(Collectors.joining(", "));
                throw new CheckpointException(where + " has no " + String.join(", no ", absent) + " tensors; it holds "
                        + (present.isEmpty() ? "nothing usable" : present)
                        + ". Single files name them model.diffusion_model.*, first_stage_model.*, cond_stage_model.*");
            }
        }

        /** Detects the remaining configs, checks every component against its schema and builds the checkpoint. */
        Checkpoint finish(Path where, List<SafeTensors> files, LoadOptions options, ModelFamily family, UNetConfig unet,
                          AttentionHeads heads, Integer textHeads, Activation activation, float eps,
                          SchedulerConfig scheduler, float vaeScale, Integer sampleSize) {
            TextEncoderConfig text = TextEncoderConfig.detect(tensors(Component.TEXT_ENCODER),
                    options.textEncoderHeads() != null ? options.textEncoderHeads() : textHeads, activation, eps);
            VaeConfig vae = VaeConfig.detect(tensors(Component.VAE), vaeScale);
            StringBuilder report = new StringBuilder();
            if (unet.levels() == 0) {
                notes.add("found no U-Net down_blocks (single files: input_blocks), so its layout is unknown");
            } else {
                check(Component.UNET, unet.schema(), report, unet.toString());
            }
            if (vae.levels() == 0) {
                notes.add("found no VAE encoder.down_blocks (single files: encoder.down), so its layout is unknown");
            } else {
                check(Component.VAE, vae.schema(), report, vae.toString());
            }
            check(Component.TEXT_ENCODER, text.schema(), report, "width " + text.width() + ", " + text.layers() + " layers");
            if (text.width() != unet.crossAttentionDim() && unet.crossAttentionDim() > 0) {
                notes.add("the text encoder's width " + text.width() + " is not the U-Net's cross-attention width "
                        + unet.crossAttentionDim() + " (components of different models?)");
            }
            notes.forEach(n -> report.append("\n  ").append(n));
            if (!report.isEmpty()) {
                throw new CheckpointException(where + " cannot be loaded:" + report);
            }
            if (options.unetHeads() != null) {
                heads = options.unetHeads();
            }
            if (options.predictionType() != null) {
                scheduler = scheduler.withPredictionType(options.predictionType());
            }
            Map<Component, Weights> weights = new EnumMap<>(Component.class);
            for (Component c : Component.values()) {
                weights.put(c, new MappedWeights(tensors.get(c), sources.get(c) + " [" + c + "]"));
            }
            ModelConfig config = new ModelConfig(family, text, unet, vae, heads, scheduler,
                    sampleSize != null ? sampleSize : ModelConfig.defaultSampleSize(family, scheduler.predictionType()));
            return new Checkpoint(where, files, weights, config, ignored);
        }

        private void check(Component c, TensorSchema schema, StringBuilder report, String detected) {
            NameMapping mapping = mappings.get(c);
            Map<String, String> names = fileNames.get(c);
            TensorSchema.Problems p = schema.check(tensors.get(c),
                    n -> names.containsKey(n) ? names.get(n) : mapping.fileName(c, n));
            if (!p.isEmpty()) {
                report.append("\n ").append(c).append(" of ").append(sources.get(c)).append(" (as detected: ").append(detected).append(')');
                p.appendTo(report);
            }
        }
    }
}
