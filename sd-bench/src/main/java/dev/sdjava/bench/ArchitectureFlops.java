package dev.sdjava.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * FLOPs of one forward pass of each SD network, counted from the architecture layer by layer (a
 * multiply-add counts as two; see {@link Flops}), split by op kind: conv, linear, attention, norm.
 * Element-wise work (activations, residual adds, softmax) is not counted. Any image size works.
 */
public final class ArchitectureFlops {
    /** FLOPs per op kind, in the order conv, linear, attention, norm. */
    public static final class Count {
        private final Map<String, Double> byKind = new LinkedHashMap<>();

        Count() {
            for (String k : new String[] {"conv", "linear", "attention", "norm"}) {
                byKind.put(k, 0.0);
            }
        }

        void add(String kind, double flops) {
            byKind.merge(kind, flops, Double::sum);
        }

        public double total() {
            return byKind.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        public Map<String, Double> byKind() {
            return Map.copyOf(byKind);
        }

        public double of(String kind) {
            return byKind.getOrDefault(kind, 0.0);
        }
    }

    private final SdArchitecture a;
    private final Count count = new Count();

    private ArchitectureFlops(SdArchitecture a) {
        this.a = a;
    }

    /** One U-Net evaluation of {@code batch} latents of {@code h×w} (guided sampling: batch 2). */
    public static Count unet(SdArchitecture a, int batch, int h, int w) {
        ArchitectureFlops f = new ArchitectureFlops(a);
        f.unetPass(h, w);
        return f.scaled(batch);
    }

    /** One U-Net block on {@code batch} latents. */
    public static Count unetBlock(SdArchitecture a, UNetBlock block, int batch) {
        ArchitectureFlops f = new ArchitectureFlops(a);
        f.block(block);
        return f.scaled(batch);
    }

    /** The VAE decoder from {@code h×w} latents to an image 8x larger, batch 1. */
    public static Count vaeDecode(SdArchitecture a, int h, int w) {
        ArchitectureFlops f = new ArchitectureFlops(a);
        f.decoder(h, w);
        return f.count;
    }

    /** The VAE encoder of an {@code h×w} image, batch 1. */
    public static Count vaeEncode(SdArchitecture a, int h, int w) {
        ArchitectureFlops f = new ArchitectureFlops(a);
        f.encoder(h, w);
        return f.count;
    }

    /** The CLIP text encoder over {@code batch} prompts of the full context length. */
    public static Count textEncode(SdArchitecture a, int batch) {
        ArchitectureFlops f = new ArchitectureFlops(a);
        int n = a.tokens(), d = a.textHidden();
        for (int i = 0; i < a.textLayers(); i++) {
            f.count.add("norm", 2 * Flops.groupNorm((long) n * d));
            f.count.add("linear", 4 * Flops.linear(n, d, d));
            f.count.add("attention", Flops.attention(1, a.textHeads(), n, n, d / a.textHeads()));
            f.count.add("linear", Flops.linear(n, d, a.textMlp()) + Flops.linear(n, a.textMlp(), d));
        }
        f.count.add("norm", Flops.groupNorm((long) n * d));
        return f.scaled(batch);
    }

    private Count scaled(int batch) {
        Count c = new Count();
        count.byKind.forEach((k, v) -> c.add(k, v * batch));
        return c;
    }

    // ---- U-Net (batch 1) ----

    private void unetPass(int h, int w) {
        int c0 = a.unetChannels()[0], t = a.timeEmbedDim();
        count.add("linear", Flops.linear(1, c0, t) + Flops.linear(1, t, t));
        conv(a.latentChannels(), c0, 3, h, w);
        for (UNetBlock b : UNetBlock.walk(a, h, w).values()) {
            block(b);
        }
        norm(c0, h, w);
        conv(c0, a.latentChannels(), 3, h, w);
    }

    private void block(UNetBlock b) {
        switch (b.kind()) {
            case RESNET -> resnet(b.in(), b.out(), b.height(), b.width(), true);
            case TRANSFORMER -> transformer(b.in(), b.height(), b.width());
            // The upsampler's nearest-neighbour resize is data movement; its conv runs at the output size.
            case DOWNSAMPLE, UPSAMPLE -> conv(b.in(), b.out(), 3, b.outHeight(), b.outWidth());
        }
    }

    private void transformer(int c, int h, int w) {
        long n = (long) h * w, ctx = a.tokens();
        int heads = a.unetHeads();
        norm(c, h, w);
        count.add("linear", 2 * Flops.linear(n, c, c)); // proj_in, proj_out (1x1 convs or linears)
        count.add("norm", 3 * Flops.groupNorm(n * c));
        count.add("linear", 4 * Flops.linear(n, c, c)); // self-attention q, k, v, out
        count.add("attention", Flops.attention(1, heads, n, n, c / heads));
        count.add("linear", 2 * Flops.linear(n, c, c) + 2 * Flops.linear(ctx, a.contextDim(), c)); // cross q, out; k, v
        count.add("attention", Flops.attention(1, heads, n, ctx, c / heads));
        count.add("linear", Flops.linear(n, c, 8L * c) + Flops.linear(n, 4L * c, c)); // GEGLU feed-forward
    }

    // ---- VAE (batch 1) ----

    private void encoder(int h, int w) {
        int[] ch = a.vaeChannels();
        int levels = ch.length, z = a.latentChannels();
        conv(3, ch[0], 3, h, w);
        int width = ch[0];
        for (int level = 0; level < levels; level++) {
            for (int j = 0; j < a.vaeLayers(); j++) {
                resnet(width, ch[level], h, w, false);
                width = ch[level];
            }
            if (level < levels - 1) {
                h /= 2; // pad right/bottom by one, 3x3, stride 2
                w /= 2;
                conv(width, width, 3, h, w);
            }
        }
        vaeMid(width, h, w);
        norm(width, h, w);
        conv(width, 2 * z, 3, h, w);
        conv(2 * z, 2 * z, 1, h, w);
    }

    private void decoder(int h, int w) {
        int[] ch = a.vaeChannels();
        int levels = ch.length, z = a.latentChannels();
        conv(z, z, 1, h, w);
        int width = ch[levels - 1];
        conv(z, width, 3, h, w);
        vaeMid(width, h, w);
        for (int level = levels - 1; level >= 0; level--) {
            for (int j = 0; j <= a.vaeLayers(); j++) {
                resnet(width, ch[level], h, w, false);
                width = ch[level];
            }
            if (level > 0) {
                h *= 2;
                w *= 2;
                conv(width, width, 3, h, w);
            }
        }
        norm(width, h, w);
        conv(width, 3, 3, h, w);
    }

    private void vaeMid(int c, int h, int w) {
        long n = (long) h * w;
        resnet(c, c, h, w, false);
        norm(c, h, w);
        count.add("linear", 4 * Flops.linear(n, c, c));
        count.add("attention", Flops.attention(1, 1, n, n, c));
        resnet(c, c, h, w, false);
    }

    // ---- shared pieces ----

    private void resnet(int in, int out, int h, int w, boolean timeEmbedding) {
        norm(in, h, w);
        conv(in, out, 3, h, w);
        if (timeEmbedding) {
            count.add("linear", Flops.linear(1, a.timeEmbedDim(), out));
        }
        norm(out, h, w);
        conv(out, out, 3, h, w);
        if (in != out) {
            conv(in, out, 1, h, w);
        }
    }

    private void conv(int in, int out, int k, int h, int w) {
        count.add("conv", Flops.conv(in, out, k, h, w));
    }

    private void norm(int c, int h, int w) {
        count.add("norm", Flops.groupNorm((long) c * h * w));
    }
}
