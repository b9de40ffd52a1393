package dev.sdjava.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Every tensor name and shape of a single-file original-layout (CompVis/A1111) SD 1.x checkpoint, derived
 * from the architecture: U-Net under {@code model.diffusion_model.}, VAE under {@code first_stage_model.},
 * CLIP text encoder under {@code cond_stage_model.transformer.text_model.}. A resnet has a 1x1 shortcut
 * exactly when its input and output widths differ.
 */
public final class CheckpointLayout {
    private final SdArchitecture a;
    private final SequencedMap<String, long[]> shapes = new LinkedHashMap<>();

    private CheckpointLayout(SdArchitecture a) {
        this.a = a;
    }

    /** Name to shape, U-Net first, then VAE, then text encoder. */
    public static SequencedMap<String, long[]> of(SdArchitecture a) {
        CheckpointLayout l = new CheckpointLayout(a);
        l.unet("model.diffusion_model.");
        l.vae("first_stage_model.");
        l.textEncoder("cond_stage_model.transformer.text_model.");
        return l.shapes;
    }

    /**
     * One U-Net block's tensors under diffusers names below {@code prefix} (the names the loader hands the model,
     * with SD 1's 1x1-conv {@code proj_in/proj_out}), for building the block alone.
     */
    public static SequencedMap<String, long[]> unetBlock(SdArchitecture a, UNetBlock block, String prefix) {
        CheckpointLayout l = new CheckpointLayout(a);
        int in = block.in(), out = block.out();
        String p = prefix + ".";
        switch (block.kind()) {
            case RESNET -> {
                l.norm(p + "norm1", in);
                l.conv(p + "conv1", out, in, 3);
                l.linear(p + "time_emb_proj", out, a.timeEmbedDim());
                l.norm(p + "norm2", out);
                l.conv(p + "conv2", out, out, 3);
                if (in != out) {
                    l.conv(p + "conv_shortcut", out, in, 1);
                }
            }
            case TRANSFORMER -> {
                l.norm(p + "norm", in);
                l.conv(p + "proj_in", in, in, 1);
                String b = p + "transformer_blocks.0.";
                l.norm(b + "norm1", in);
                l.attention(b + "attn1", in, in);
                l.norm(b + "norm2", in);
                l.attention(b + "attn2", in, a.contextDim());
                l.norm(b + "norm3", in);
                l.linear(b + "ff.net.0.proj", 8 * in, in);
                l.linear(b + "ff.net.2", in, 4 * in);
                l.conv(p + "proj_out", in, in, 1);
            }
            case DOWNSAMPLE, UPSAMPLE -> l.conv(p + "conv", out, in, 3);
        }
        return l.shapes;
    }

    // ---- U-Net ----

    private void unet(String p) {
        int[] ch = a.unetChannels();
        int levels = ch.length, t = a.timeEmbedDim();
        linear(p + "time_embed.0", t, ch[0]);
        linear(p + "time_embed.2", t, t);
        conv(p + "input_blocks.0.0", ch[0], a.latentChannels(), 3);

        // Skip widths the up path concatenates, in the order the down path produces them.
        java.util.ArrayDeque<Integer> skips = new java.util.ArrayDeque<>();
        skips.push(ch[0]);
        int width = ch[0], block = 1;
        for (int level = 0; level < levels; level++) {
            for (int j = 0; j < a.unetLayers(); j++, block++) {
                resnet(p + "input_blocks." + block + ".0", width, ch[level]);
                width = ch[level];
                if (level < levels - 1) {
                    transformer(p + "input_blocks." + block + ".1", width);
                }
                skips.push(width);
            }
            if (level < levels - 1) {
                conv(p + "input_blocks." + block + ".0.op", width, width, 3);
                skips.push(width);
                block++;
            }
        }
        resnet(p + "middle_block.0", width, width);
        transformer(p + "middle_block.1", width);
        resnet(p + "middle_block.2", width, width);

        block = 0;
        for (int up = 0; up < levels; up++) {
            int level = levels - 1 - up;
            for (int j = 0; j <= a.unetLayers(); j++, block++) {
                String b = p + "output_blocks." + block;
                resnet(b + ".0", width + skips.pop(), ch[level]);
                width = ch[level];
                int next = 1;
                if (level < levels - 1) {
                    transformer(b + ".1", width);
                    next = 2;
                }
                if (j == a.unetLayers() && level > 0) {
                    conv(b + "." + next + ".conv", width, width, 3);
                }
            }
        }
        norm(p + "out.0", width);
        conv(p + "out.2", a.latentChannels(), width, 3);
    }

    private void resnet(String p, int in, int out) {
        norm(p + ".in_layers.0", in);
        conv(p + ".in_layers.2", out, in, 3);
        linear(p + ".emb_layers.1", out, a.timeEmbedDim());
        norm(p + ".out_layers.0", out);
        conv(p + ".out_layers.3", out, out, 3);
        if (in != out) {
            conv(p + ".skip_connection", out, in, 1);
        }
    }

    private void transformer(String p, int c) {
        norm(p + ".norm", c);
        conv(p + ".proj_in", c, c, 1);
        String b = p + ".transformer_blocks.0.";
        attention(b + "attn1", c, c);
        attention(b + "attn2", c, a.contextDim());
        norm(b + "norm1", c);
        norm(b + "norm2", c);
        norm(b + "norm3", c);
        linear(b + "ff.net.0.proj", 8 * c, c);
        linear(b + "ff.net.2", c, 4 * c);
        conv(p + ".proj_out", c, c, 1);
    }

    private void attention(String p, int c, int contextWidth) {
        shapes.put(p + ".to_q.weight", new long[] {c, c});
        shapes.put(p + ".to_k.weight", new long[] {c, contextWidth});
        shapes.put(p + ".to_v.weight", new long[] {c, contextWidth});
        linear(p + ".to_out.0", c, c);
    }

    // ---- VAE ----

    private void vae(String p) {
        int[] ch = a.vaeChannels();
        int levels = ch.length, z = a.latentChannels();
        String e = p + "encoder.";
        conv(e + "conv_in", ch[0], 3, 3);
        int width = ch[0];
        for (int level = 0; level < levels; level++) {
            for (int j = 0; j < a.vaeLayers(); j++) {
                vaeResnet(e + "down." + level + ".block." + j, width, ch[level]);
                width = ch[level];
            }
            if (level < levels - 1) {
                conv(e + "down." + level + ".downsample.conv", width, width, 3);
            }
        }
        vaeMid(e + "mid", width);
        norm(e + "norm_out", width);
        conv(e + "conv_out", 2 * z, width, 3);
        conv(p + "quant_conv", 2 * z, 2 * z, 1);
        conv(p + "post_quant_conv", z, z, 1);

        String d = p + "decoder.";
        width = ch[levels - 1];
        conv(d + "conv_in", width, z, 3);
        vaeMid(d + "mid", width);
        // The original layout numbers decoder levels from the full-resolution end: up.(levels-1) runs first.
        for (int level = levels - 1; level >= 0; level--) {
            for (int j = 0; j <= a.vaeLayers(); j++) {
                vaeResnet(d + "up." + level + ".block." + j, width, ch[level]);
                width = ch[level];
            }
            if (level > 0) {
                conv(d + "up." + level + ".upsample.conv", width, width, 3);
            }
        }
        norm(d + "norm_out", width);
        conv(d + "conv_out", 3, width, 3);
    }

    private void vaeResnet(String p, int in, int out) {
        norm(p + ".norm1", in);
        conv(p + ".conv1", out, in, 3);
        norm(p + ".norm2", out);
        conv(p + ".conv2", out, out, 3);
        if (in != out) {
            conv(p + ".nin_shortcut", out, in, 1);
        }
    }

    private void vaeMid(String p, int c) {
        vaeResnet(p + ".block_1", c, c);
        norm(p + ".attn_1.norm", c);
        for (String n : new String[] {"q", "k", "v", "proj_out"}) {
            conv(p + ".attn_1." + n, c, c, 1);
        }
        vaeResnet(p + ".block_2", c, c);
    }

    // ---- CLIP text encoder ----

    private void textEncoder(String p) {
        int h = a.textHidden();
        shapes.put(p + "embeddings.token_embedding.weight", new long[] {a.vocab(), h});
        shapes.put(p + "embeddings.position_embedding.weight", new long[] {a.tokens(), h});
        for (int i = 0; i < a.textLayers(); i++) {
            String l = p + "encoder.layers." + i + ".";
            norm(l + "layer_norm1", h);
            for (String n : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                linear(l + "self_attn." + n, h, h);
            }
            norm(l + "layer_norm2", h);
            linear(l + "mlp.fc1", a.textMlp(), h);
            linear(l + "mlp.fc2", h, a.textMlp());
        }
        norm(p + "final_layer_norm", h);
    }

    // ---- parameter kinds ----

    private void linear(String p, int out, int in) {
        shapes.put(p + ".weight", new long[] {out, in});
        shapes.put(p + ".bias", new long[] {out});
    }

    private void conv(String p, int out, int in, int k) {
        shapes.put(p + ".weight", new long[] {out, in, k, k});
        shapes.put(p + ".bias", new long[] {out});
    }

    private void norm(String p, int c) {
        shapes.put(p + ".weight", new long[] {c});
        shapes.put(p + ".bias", new long[] {c});
    }

    /** Total parameters of a layout. */
    public static long parameters(Map<String, long[]> layout) {
        long n = 0;
        for (long[] s : layout.values()) {
            long e = 1;
            for (long d : s) {
                e *= d;
            }
            n += e;
        }
        return n;
    }
}
