package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.AttentionHeads;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.UNetConfig;
import dev.sdjava.model.Weights;
import java.util.Arrays;

/**
 * The denoiser of SD 1.x and 2.x (diffusers' UNet2DConditionModel): predicts noise (or v) for a latent at a
 * timestep, conditioned on text embeddings.
 *
 * <pre>
 * emb = time_embedding(t);  h = conv_in(x);  skips = [h]
 * down level i: (resnet(h, emb) [→ transformer(h, text)]; skips += h) × layers; downsample; skips += h
 * mid:          resnet, transformer, resnet
 * up level i:   (h = cat(h, skips.pop()); resnet(h, emb) [→ transformer]) × (layers + 1); upsample to the next skip's size
 * out = conv_out(silu(conv_norm_out(h)))
 * </pre>
 *
 * Weights are prepared once at load; activations live in a workspace kept between calls, so repeated calls at
 * one size allocate nothing (until {@link #releaseBuffers()}). One call at a time per instance.
 */
public final class UNet {
    /** Resnet and output GroupNorm eps (the attention blocks use 1e-6). */
    static final float RESNET_EPS = 1e-5f;

    private final Kernels k;
    private final UNetConfig config;
    private final TimestepEmbedding timeEmbedding;
    private final Conv2d convIn;                    // [c0, in, 3, 3]
    private final DownBlock[] downBlocks;
    private final ResnetBlock midResnet1;
    private final SpatialTransformer midAttention;
    private final ResnetBlock midResnet2;
    private final UpBlock[] upBlocks;
    private final GroupNorm normOut;                // [c0]
    private final Conv2d convOut;                   // [out, c0, 3, 3]
    private final Skips skips;
    /** What lives through the whole call: the time embedding, the skips, the up path's buffer. */
    private final Workspace kept = new Workspace();
    /** Each block's temporaries, released when it returns; apart from {@link #kept} so that every block's scratch starts at the bottom of the stack. */
    private final Workspace ws = new Workspace();

    /** A down level: resnets, each followed by a transformer when the level has attention (else null), then a downsampler (null on the last level). */
    private record DownBlock(ResnetBlock[] resnets, SpatialTransformer[] attentions, Downsample downsampler) {
    }

    /** An up level: resnets over (h ++ skip), each maybe followed by a transformer, then an upsampler (null on the last level). */
    private record UpBlock(ResnetBlock[] resnets, SpatialTransformer[] attentions, Upsample upsampler) {
    }

    private UNet(Kernels k, Weights w, UNetConfig config, AttentionHeads heads) {
        this.k = k;
        this.config = config;
        int levels = config.levels();
        int layers = config.layersPerBlock();
        int[] widths = config.blockWidths();
        boolean[] hasAttention = config.attention();
        int c0 = widths[0];
        int temb = config.timeEmbedDim();
        int contextDim = config.crossAttentionDim();

        timeEmbedding = TimestepEmbedding.load(k, w, "time_embedding", c0, temb);
        convIn = Conv2d.load(k, w, "conv_in", config.inChannels(), c0, 3);

        // The skip stack's channel counts, pushed on the way down and popped on the way up.
        int[] skipChannels = new int[1 + levels * layers + levels - 1];
        int pushed = 0;
        skipChannels[pushed++] = c0;
        downBlocks = new DownBlock[levels];
        int channels = c0;
        for (int i = 0; i < levels; i++) {
            String prefix = "down_blocks." + i;
            int out = widths[i];
            ResnetBlock[] resnets = new ResnetBlock[layers];
            SpatialTransformer[] attentions = hasAttention[i] ? new SpatialTransformer[layers] : null;
            for (int j = 0; j < layers; j++) {
                resnets[j] = ResnetBlock.load(k, w, prefix + ".resnets." + j, channels, out, temb, RESNET_EPS);
                if (attentions != null) {
                    attentions[j] = transformer(w, prefix + ".attentions." + j, out, contextDim, heads, i);
                }
                channels = out;
                skipChannels[pushed++] = out;
            }
            Downsample downsampler = null;
            if (i < levels - 1) {
                downsampler = Downsample.symmetric(k, w, prefix + ".downsamplers.0", out);
                skipChannels[pushed++] = out;
            }
            downBlocks[i] = new DownBlock(resnets, attentions, downsampler);
        }

        midResnet1 = ResnetBlock.load(k, w, "mid_block.resnets.0", channels, channels, temb, RESNET_EPS);
        midAttention = transformer(w, "mid_block.attentions.0", channels, contextDim, heads, levels - 1);
        midResnet2 = ResnetBlock.load(k, w, "mid_block.resnets.1", channels, channels, temb, RESNET_EPS);

        upBlocks = new UpBlock[levels];
        for (int i = 0; i < levels; i++) {
            String prefix = "up_blocks." + i;
            int level = levels - 1 - i;
            int out = widths[level];
            ResnetBlock[] resnets = new ResnetBlock[layers + 1];
            SpatialTransformer[] attentions = hasAttention[level] ? new SpatialTransformer[layers + 1] : null;
            for (int j = 0; j <= layers; j++) {
                int skip = skipChannels[--pushed];
                resnets[j] = ResnetBlock.load(k, w, prefix + ".resnets." + j, channels + skip, out, temb, RESNET_EPS);
                if (attentions != null) {
                    attentions[j] = transformer(w, prefix + ".attentions." + j, out, contextDim, heads, level);
                }
                channels = out;
            }
            Upsample upsampler = i < levels - 1 ? Upsample.load(k, w, prefix + ".upsamplers.0", out) : null;
            upBlocks[i] = new UpBlock(resnets, attentions, upsampler);
        }

        normOut = GroupNorm.load(k, w, "conv_norm_out", channels, RESNET_EPS);
        convOut = Conv2d.load(k, w, "conv_out", channels, config.outChannels(), 3);
        skips = new Skips(skipChannels.length);
    }

    private SpatialTransformer transformer(Weights w, String prefix, int channels, int contextDim,
                                           AttentionHeads heads, int level) {
        int inner = Params.dim(w, prefix + ".proj_in.weight", 0);
        return SpatialTransformer.load(k, w, prefix, channels, config.transformerDepth(), contextDim, heads.heads(level, inner));
    }

    /** The checkpoint's U-Net, on the kernels chosen at start-up. */
    public static UNet load(Checkpoint checkpoint) {
        return load(checkpoint.unet(), checkpoint.config().unet(), checkpoint.config().unetHeads(), Kernels.get());
    }

    /**
     * A U-Net from weights under diffusers names, of the shape {@code config} describes, with the attention heads
     * (not in the weights) from {@code heads}. Every tensor is checked against the shape the network expects.
     */
    public static UNet load(Weights unet, UNetConfig config, AttentionHeads heads, Kernels kernels) {
        return new UNet(kernels, unet, config, heads);
    }

    public UNetConfig config() {
        return config;
    }

    /**
     * One denoising evaluation.
     *
     * @param sample        latents {@code [batch, inChannels, height, width]} (any height and width ≥ 1)
     * @param timesteps     one timestep per batch element (fractions allowed), or a single one for the whole batch
     * @param context       text embeddings {@code [batch, contextTokens, crossAttentionDim]}
     * @param out           receives {@code [batch, outChannels, height, width]}
     */
    public void forward(float[] sample, int batch, int height, int width, float[] timesteps,
                        float[] context, int contextTokens, float[] out) {
        forward(sample, batch, height, width, timesteps, context, contextTokens, out, Probe.NONE);
    }

    void forward(float[] sample, int batch, int height, int width, float[] timesteps,
                 float[] context, int contextTokens, float[] out, Probe probe) {
        checkArguments(sample, batch, height, width, timesteps, context, contextTokens, out);
        kept.release(0);
        ws.release(0);
        float[] t = kept.take(batch);
        for (int b = 0; b < batch; b++) {
            t[b] = timesteps[timesteps.length == 1 ? 0 : b];
        }
        float[] code = kept.take((long) batch * timeEmbedding.sinusoidDim);
        float[] emb = kept.take((long) batch * timeEmbedding.embedDim);
        timeEmbedding.forward(t, batch, code, emb, ws);
        probe.record("time_proj", -1, code, batch * timeEmbedding.sinusoidDim);
        probe.record("time_embedding", -1, emb, batch * timeEmbedding.embedDim);
        k.silu(emb, batch * timeEmbedding.embedDim, emb); // every resnet projects silu(emb)

        // Down: every output is kept as a skip, so each gets its own buffer.
        skips.clear();
        int h = height;
        int w = width;
        float[] x = kept.take((long) batch * convIn.out * h * w);
        convIn.forward(sample, batch, h, w, x);
        skips.push(x, convIn.out, h, w);
        probe.record("conv_in", -1, x, batch * convIn.out * h * w);
        for (int i = 0; i < downBlocks.length; i++) {
            DownBlock block = downBlocks[i];
            int channels = 0;
            for (int j = 0; j < block.resnets.length; j++) {
                ResnetBlock resnet = block.resnets[j];
                channels = resnet.out;
                float[] y = kept.take((long) batch * channels * h * w);
                resnet.forward(x, batch, h, w, emb, y, ws);
                if (block.attentions != null) {
                    block.attentions[j].forward(y, batch, h, w, context, contextTokens, y, ws);
                }
                skips.push(y, channels, h, w);
                x = y;
            }
            if (block.downsampler != null) {
                int oh = block.downsampler.outSize(h);
                int ow = block.downsampler.outSize(w);
                float[] y = kept.take((long) batch * channels * oh * ow);
                block.downsampler.forward(x, batch, h, w, y);
                h = oh;
                w = ow;
                skips.push(y, channels, h, w);
                x = y;
            }
            probe.record("down_blocks", i, x, batch * channels * h * w);
        }

        // Mid and up run in one buffer sized for the largest activation on the way up.
        float[] cur = kept.take(upCapacity(batch));
        int channels = midResnet1.out;
        float[] mid = ws.take((long) batch * channels * h * w);
        midResnet1.forward(x, batch, h, w, emb, mid, ws);
        midAttention.forward(mid, batch, h, w, context, contextTokens, mid, ws);
        midResnet2.forward(mid, batch, h, w, emb, cur, ws);
        ws.release(0);
        probe.record("mid_block", -1, cur, batch * channels * h * w);

        for (int i = 0; i < upBlocks.length; i++) {
            UpBlock block = upBlocks[i];
            for (int j = 0; j < block.resnets.length; j++) {
                ResnetBlock resnet = block.resnets[j];
                int skip = skips.top();
                float[] cat = ws.take((long) batch * resnet.in * h * w);
                k.concatChannels(cur, channels, skips.data[skip], skips.channels[skip], batch, h * w, cat);
                skips.pop();
                resnet.forward(cat, batch, h, w, emb, cur, ws);
                ws.release(0);
                if (block.attentions != null) {
                    block.attentions[j].forward(cur, batch, h, w, context, contextTokens, cur, ws);
                }
                channels = resnet.out;
            }
            if (block.upsampler != null) {
                int next = skips.top();
                block.upsampler.forward(cur, batch, h, w, skips.height[next], skips.width[next], cur, ws);
                h = skips.height[next];
                w = skips.width[next];
            }
            probe.record("up_blocks", i, cur, batch * channels * h * w);
        }

        float[] normed = ws.take((long) batch * channels * h * w);
        normOut.forward(cur, batch, h * w, false, normed);
        probe.record("conv_norm_out", -1, normed, batch * channels * h * w);
        k.silu(normed, batch * channels * h * w, normed);
        convOut.forward(normed, batch, h, w, out);
        ws.release(0);
        kept.release(0);
    }

    /** The largest activation of the mid and up path, from the skip sizes the down path left (before any pop). */
    private long upCapacity(int batch) {
        int skip = skips.top();
        long capacity = (long) batch * midResnet2.out * skips.height[skip] * skips.width[skip];
        for (UpBlock block : upBlocks) {
            int out = block.resnets[0].out;
            for (int j = 0; j < block.resnets.length; j++, skip--) {
                capacity = Math.max(capacity, (long) batch * out * skips.height[skip] * skips.width[skip]);
            }
            if (block.upsampler != null) {
                capacity = Math.max(capacity, (long) batch * out * skips.height[skip] * skips.width[skip]);
            }
        }
        return capacity;
    }

    private void checkArguments(float[] sample, int batch, int height, int width, float[] timesteps,
                                float[] context, int contextTokens, float[] out) {
        if (batch < 1 || height < 1 || width < 1 || contextTokens < 1) {
            throw new IllegalArgumentException("U-Net: batch " + batch + ", height " + height + ", width " + width
                    + " and context tokens " + contextTokens + " must all be positive");
        }
        require("sample", sample, (long) batch * config.inChannels() * height * width);
        require("context", context, (long) batch * contextTokens * config.crossAttentionDim());
        require("out", out, (long) batch * config.outChannels() * height * width);
        if (timesteps.length != 1 && timesteps.length < batch) {
            throw new IllegalArgumentException("U-Net: " + timesteps.length + " timesteps for a batch of " + batch
                    + " (give one per batch element, or one for all)");
        }
    }

    private static void require(String name, float[] array, long length) {
        if (array.length < length) {
            throw new IllegalArgumentException("U-Net: " + name + " has " + array.length + " floats, the shape needs " + length);
        }
    }

    /**
     * Drops the activation buffers kept for the next call (about 300 MiB for a guided 512x512 step), e.g. before
     * the VAE runs; the next call allocates them again.
     */
    public void releaseBuffers() {
        skips.clear();
        kept.clear();
        ws.clear();
    }

    /** The skip stack: buffers owned by the workspace, with their shapes. Preallocated, reused every call. */
    private static final class Skips {
        final float[][] data;
        final int[] channels;
        final int[] height;
        final int[] width;
        private int size;

        Skips(int capacity) {
            data = new float[capacity][];
            channels = new int[capacity];
            height = new int[capacity];
            width = new int[capacity];
        }

        void clear() {
            Arrays.fill(data, null);
            size = 0;
        }

        void push(float[] x, int c, int h, int w) {
            data[size] = x;
            channels[size] = c;
            height[size] = h;
            width[size] = w;
            size++;
        }

        int top() {
            return size - 1;
        }

        void pop() {
            data[--size] = null;
        }
    }
}
