package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table between the names a checkpoint file uses and the diffusers names the networks read
 * ({@code text_model.…} for the text encoder, as HF's CLIPTextModel). Single files use the original
 * CompVis/LDM layout ({@code model.diffusion_model.input_blocks.1.0.in_layers.0.weight}), SD 2's text
 * tower the OpenCLIP one; diffusers folders need only small normalisations (the optional
 * {@code text_model.} prefix, pre-0.14 VAE attention names).
 *
 * <p>The table maps name prefixes, longest first: {@code input_blocks.1.0.} → {@code
 * down_blocks.0.resnets.0.}, the rest of the name is kept. It is generated from the block counts the
 * file holds (levels, layers per level, which levels have attention), so it is exact in both
 * directions. Whether the translated names form a complete, well-shaped network is not its concern:
 * the schemas of the detected configs ({@link UNetConfig}, {@link VaeConfig}, {@link TextEncoderConfig})
 * check that.
 */
final class NameMapping {

    /** What a file name stands for: a component and its diffusers name, or nothing (ignored). */
    record Target(Component component, String name) {
    }

    /** A diffusers name in which {@code {q,k,v}} stands for three equal slices along dimension 0. */
    static final String FUSED_QKV = "{q,k,v}";

    static final String UNET = "model.diffusion_model.";
    static final String VAE = "first_stage_model.";
    static final String CLIP = "cond_stage_model.transformer.";
    static final String OPEN_CLIP = "cond_stage_model.model.";

    /** In the table: stored in checkpoints, never read by the networks (translated to an empty name). */
    private static final String UNUSED = null;

    private static final String[][] UNET_RESNET = {
        {"in_layers.0.", "norm1."}, {"in_layers.2.", "conv1."}, {"emb_layers.1.", "time_emb_proj."},
        {"out_layers.0.", "norm2."}, {"out_layers.3.", "conv2."}, {"skip_connection.", "conv_shortcut."},
    };
    private static final String[][] VAE_MID_ATTENTION = {
        {"norm.", "group_norm."}, {"q.", "to_q."}, {"k.", "to_k."}, {"v.", "to_v."}, {"proj_out.", "to_out.0."},
    };
    private static final String[][] OPEN_CLIP_BLOCK = {
        {"ln_1.", "layer_norm1."}, {"ln_2.", "layer_norm2."}, {"attn.out_proj.", "self_attn.out_proj."},
        {"attn.in_proj_weight", "self_attn." + FUSED_QKV + "_proj.weight"},
        {"attn.in_proj_bias", "self_attn." + FUSED_QKV + "_proj.bias"},
        {"mlp.c_fc.", "mlp.fc1."}, {"mlp.c_proj.", "mlp.fc2."},
    };

    private final Map<String, Target> toDiffusers = new HashMap<>();
    private final Map<String, String> toFile = new HashMap<>();
    /** Name prefixes that belong to a component, so unknown names under them are errors, not extras. */
    private final Map<String, Component> owners = new HashMap<>();

    private NameMapping() {
    }

    /** The table for a single original-layout file, sized from the blocks {@code names} holds. */
    static NameMapping forSingleFile(Collection<String> names) {
        NameMapping m = new NameMapping();
        m.owners.put(UNET, Component.UNET);
        m.owners.put(VAE, Component.VAE);
        m.owners.put(CLIP, Component.TEXT_ENCODER);
        m.owners.put(OPEN_CLIP, Component.TEXT_ENCODER);
        m.unet(names);
        m.vae(names);
        // One text layout per file; the table holds only its names, so it stays invertible.
        if (hasPrefix(names, OPEN_CLIP)) {
            m.openClip(names);
        } else {
            m.clip();
        }
        return m;
    }

    /** The normalisations for one component's file in a diffusers folder. */
    static NameMapping forFolder(Component component) {
        NameMapping m = new NameMapping();
        m.owners.put("", component);
        switch (component) {
            case TEXT_ENCODER -> {
                // transformers >= 5.6 writes CLIPTextModel files without the "text_model." prefix.
                m.put(Component.TEXT_ENCODER, "", "text_model.");
                m.put(Component.TEXT_ENCODER, "text_model.", "text_model.");
                m.put(Component.TEXT_ENCODER, "text_model.embeddings.position_ids", UNUSED);
                m.put(Component.TEXT_ENCODER, "embeddings.position_ids", UNUSED);
            }
            case UNET -> m.put(Component.UNET, "", "");
            case VAE -> {
                m.put(Component.VAE, "", "");
                // diffusers before 0.14 named the VAE's mid attention query/key/value/proj_attn.
                for (String coder : List.of("encoder.", "decoder.")) {
                    String attention = coder + "mid_block.attentions.0.";
                    m.put(Component.VAE, attention + "query.", attention + "to_q.");
                    m.put(Component.VAE, attention + "key.", attention + "to_k.");
                    m.put(Component.VAE, attention + "value.", attention + "to_v.");
                    m.put(Component.VAE, attention + "proj_attn.", attention + "to_out.0.");
                }
            }
        }
        return m;
    }

    /**
     * The component and diffusers name of file tensor {@code name}; {@code null} when the name is no
     * part of any component (extras such as {@code model_ema.*} or {@code alphas_cumprod}); a target
     * with an empty name for stored-but-unused tensors. Names under a component's prefix that the table
     * does not know come back unchanged, so the schema check reports them as unexpected.
     */
    Target translate(String name) {
        int end = longestKnownPrefix(toDiffusers, "", name);
        if (end >= 0) {
            Target t = toDiffusers.get(name.substring(0, end));
            return new Target(t.component(), t.name() == null ? "" : t.name() + name.substring(end));
        }
        Component owner = ownerOf(name);
        return owner == null ? null : new Target(owner, name);
    }

    /** The file's name for diffusers name {@code name} of {@code component}, for messages. */
    String fileName(Component component, String name) {
        String key = component + ":";
        int end = longestKnownPrefix(toFile, key, name);
        return end < 0 ? name : toFile.get(key + name.substring(0, end)) + name.substring(end);
    }

    /**
     * The length of the longest prefix of {@code name} that {@code map} holds (under {@code keyPrefix}):
     * the whole name, a prefix ending in a dot, or the empty prefix; -1 if none.
     */
    private static int longestKnownPrefix(Map<String, ?> map, String keyPrefix, String name) {
        int end = name.length();
        while (true) {
            if (map.containsKey(keyPrefix + name.substring(0, end))) {
                return end;
            }
            if (end == 0) {
                return -1;
            }
            end = name.lastIndexOf('.', end - 2) + 1;
        }
    }

    /**
     * Hands {@code sink} the diffusers tensor(s) that file tensor {@code t} becomes: three zero-copy row
     * slices for OpenCLIP's fused q;k;v projection, the VAE attention's 1x1 conv {@code [C, C, 1, 1]}
     * viewed as the {@code [C, C]} Linear weight diffusers stores, else {@code t} itself.
     */
    static void present(Target target, Tensor t, BiConsumer<String, Tensor> sink) {
        String name = target.name();
        if (name.contains(FUSED_QKV)) {
            long rows = t.rank() > 0 ? t.dim(0) : 0;
            boolean splits = rows % 3 == 0;
            String[] parts = {"q", "k", "v"};
            for (int i = 0; i < 3; i++) {
                // An indivisible tensor goes whole to all three names: the schema check reports its shape.
                sink.accept(name.replace(FUSED_QKV, parts[i]), splits ? t.slice(i * rows / 3, (i + 1) * rows / 3) : t);
            }
        } else if (target.component() == Component.VAE && name.contains("mid_block.attentions.") && name.endsWith(".weight")
                && t.rank() == 4 && t.dim(2) == 1 && t.dim(3) == 1) {
            sink.accept(name, t.reshape(t.dim(0), t.dim(1)));
        } else {
            sink.accept(name, t);
        }
    }

    private Component ownerOf(String name) {
        for (Map.Entry<String, Component> e : owners.entrySet()) {
            if (name.startsWith(e.getKey())) {
                return e.getValue();
            }
        }
        return null;
    }

    private void put(Component component, String file, String diffusers) {
        toDiffusers.put(file, new Target(component, diffusers));
        if (diffusers != null) {
            toFile.putIfAbsent(component + ":" + diffusers, file);
        }
    }

    // ---- U-Net: input_blocks / middle_block / output_blocks ----

    private void unet(Collection<String> names) {
        Component c = Component.UNET;
        TreeSet<Integer> inputs = indices(names, UNET + "input_blocks.");
        if (inputs.isEmpty()) {
            return;
        }
        // Each level holds `layers` resnet(+attention) blocks then a downsampler, except the last.
        int firstDownsampler = inputs.stream().filter(n -> n > 0 && names.contains(UNET + "input_blocks." + n + ".0.op.weight"))
                .findFirst().orElse(inputs.last() + 1);
        int layers = firstDownsampler - 1;
        int levels = Math.max(1, (inputs.last() + 1) / (layers + 1));
        boolean[] attention = new boolean[levels];
        for (int i = 0; i < levels; i++) {
            attention[i] = hasPrefix(names, UNET + "input_blocks." + ((layers + 1) * i + 1) + ".1.");
        }

        put(c, UNET + "time_embed.0.", "time_embedding.linear_1.");
        put(c, UNET + "time_embed.2.", "time_embedding.linear_2.");
        put(c, UNET + "input_blocks.0.0.", "conv_in.");
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < layers; j++) {
                String block = UNET + "input_blocks." + ((layers + 1) * i + j + 1) + ".";
                unetResnet(block + "0.", "down_blocks." + i + ".resnets." + j + ".");
                put(c, block + "1.", "down_blocks." + i + ".attentions." + j + ".");
            }
            if (i < levels - 1) {
                put(c, UNET + "input_blocks." + ((layers + 1) * (i + 1)) + ".0.op.", "down_blocks." + i + ".downsamplers.0.conv.");
            }
        }
        unetResnet(UNET + "middle_block.0.", "mid_block.resnets.0.");
        put(c, UNET + "middle_block.1.", "mid_block.attentions.0.");
        unetResnet(UNET + "middle_block.2.", "mid_block.resnets.1.");
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j <= layers; j++) {
                String block = UNET + "output_blocks." + ((layers + 1) * i + j) + ".";
                unetResnet(block + "0.", "up_blocks." + i + ".resnets." + j + ".");
                put(c, block + "1.", "up_blocks." + i + ".attentions." + j + ".");
            }
            if (i < levels - 1) {
                // The upsampler follows the last resnet, or its attention when the level has one.
                boolean upAttention = attention[levels - 1 - i];
                put(c, UNET + "output_blocks." + ((layers + 1) * i + layers) + (upAttention ? ".2.conv." : ".1.conv."),
                        "up_blocks." + i + ".upsamplers.0.conv.");
            }
        }
        put(c, UNET + "out.0.", "conv_norm_out.");
        put(c, UNET + "out.2.", "conv_out.");
    }

    private void unetResnet(String file, String diffusers) {
        for (String[] pair : UNET_RESNET) {
            put(Component.UNET, file + pair[0], diffusers + pair[1]);
        }
    }

    // ---- VAE: encoder.down / decoder.up (numbered in reverse) ----

    private void vae(Collection<String> names) {
        Component c = Component.VAE;
        int levels = indices(names, VAE + "encoder.down.").size();
        int layers = indices(names, VAE + "encoder.down.0.block.").size();
        for (String coder : List.of("encoder.", "decoder.")) {
            put(c, VAE + coder + "conv_in.", coder + "conv_in.");
            put(c, VAE + coder + "conv_out.", coder + "conv_out.");
            put(c, VAE + coder + "norm_out.", coder + "conv_norm_out.");
            vaeResnet(VAE + coder + "mid.block_1.", coder + "mid_block.resnets.0.");
            vaeResnet(VAE + coder + "mid.block_2.", coder + "mid_block.resnets.1.");
            for (String[] pair : VAE_MID_ATTENTION) {
                put(c, VAE + coder + "mid.attn_1." + pair[0], coder + "mid_block.attentions.0." + pair[1]);
            }
        }
        put(c, VAE + "loss.", UNUSED); // the training loss (LPIPS, discriminator) some checkpoints still carry
        put(c, VAE + "quant_conv.", "quant_conv.");
        put(c, VAE + "post_quant_conv.", "post_quant_conv.");
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < layers; j++) {
                vaeResnet(VAE + "encoder.down." + i + ".block." + j + ".", "encoder.down_blocks." + i + ".resnets." + j + ".");
            }
            put(c, VAE + "encoder.down." + i + ".downsample.", "encoder.down_blocks." + i + ".downsamplers.0.");
            int stored = levels - 1 - i; // decoder.up.3 is diffusers' first up block
            for (int j = 0; j <= layers; j++) {
                vaeResnet(VAE + "decoder.up." + stored + ".block." + j + ".", "decoder.up_blocks." + i + ".resnets." + j + ".");
            }
            put(c, VAE + "decoder.up." + stored + ".upsample.", "decoder.up_blocks." + i + ".upsamplers.0.");
        }
    }

    private void vaeResnet(String file, String diffusers) {
        put(Component.VAE, file, diffusers);
        put(Component.VAE, file + "nin_shortcut.", diffusers + "conv_shortcut.");
    }

    // ---- text encoders: HF CLIP (SD 1) and OpenCLIP (SD 2) ----

    private void clip() {
        put(Component.TEXT_ENCODER, CLIP + "text_model.", "text_model.");
        put(Component.TEXT_ENCODER, CLIP, "text_model."); // older transformers saved CLIPTextModel without it
        put(Component.TEXT_ENCODER, CLIP + "text_model.embeddings.position_ids", UNUSED);
        put(Component.TEXT_ENCODER, CLIP + "embeddings.position_ids", UNUSED);
    }

    private void openClip(Collection<String> names) {
        Component c = Component.TEXT_ENCODER;
        put(c, OPEN_CLIP + "token_embedding.weight", "text_model.embeddings.token_embedding.weight");
        put(c, OPEN_CLIP + "positional_embedding", "text_model.embeddings.position_embedding.weight");
        put(c, OPEN_CLIP + "ln_final.", "text_model.final_layer_norm.");
        put(c, OPEN_CLIP + "text_projection", UNUSED);
        put(c, OPEN_CLIP + "logit_scale", UNUSED);
        TreeSet<Integer> blocks = indices(names, OPEN_CLIP + "transformer.resblocks.");
        if (blocks.isEmpty()) {
            return;
        }
        // SD 2 conditions on the penultimate block ("layer: penultimate"), then ln_final: the last
        // stored block is never run, exactly as diffusers' converted text encoder drops it.
        int used = blocks.last();
        for (int n = 0; n < used; n++) {
            for (String[] pair : OPEN_CLIP_BLOCK) {
                put(c, OPEN_CLIP + "transformer.resblocks." + n + "." + pair[0], "text_model.encoder.layers." + n + "." + pair[1]);
            }
        }
        put(c, OPEN_CLIP + "transformer.resblocks." + used + ".", UNUSED);
    }

    private static final Pattern INDEX = Pattern.compile("(\\d+)\\.");

    /** The distinct numbers N of names {@code prefix + N + ".…"}. */
    static TreeSet<Integer> indices(Collection<String> names, String prefix) {
        TreeSet<Integer> found = new TreeSet<>();
        for (String name : names) {
            if (name.startsWith(prefix)) {
                Matcher m = INDEX.matcher(name);
                if (m.find(prefix.length()) && m.start() == prefix.length()) {
                    found.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        return found;
    }

    static boolean hasPrefix(Collection<String> names, String prefix) {
        for (String name : names) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
