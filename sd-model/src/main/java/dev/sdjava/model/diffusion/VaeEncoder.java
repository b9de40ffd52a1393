package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.VaeConfig;
import dev.sdjava.model.Weights;
import java.util.Arrays;

/**
 * Image to latent distribution, the encoding half of AutoencoderKL:
 *
 * <pre>
 * h = conv_in(image)
 * down level i: resnet × layers; pad right/bottom by one + 3x3 stride-2 conv (not on the last level)
 * h = mid(h);  moments = quant_conv(conv_out(silu(conv_norm_out(h))))
 * mean = moments[:, :latent];  logvar = clamp(moments[:, latent:], -30, 20)
 * </pre>
 *
 * The mean and log-variance describe the unscaled latent; {@link #sample} draws from it and applies the
 * config's scaling factor, giving latents as the sampler uses them. One call at a time per instance; repeated calls at
 * one size allocate no activations (until {@link #releaseBuffers()}).
 */
public final class VaeEncoder {
    private static final float LOGVAR_MIN = -30f;
    private static final float LOGVAR_MAX = 20f;

    private final Kernels k;
    private final VaeConfig config;
    private final Conv2d convIn;          // [c0, image, 3, 3]
    private final DownBlock[] downBlocks;
    private final VaeMidBlock mid;
    private final GroupNorm normOut;      // [cTop]
    private final Conv2d convOut;         // [2 · latent, cTop, 3, 3]
    private final Conv2d quantConv;       // [2 · latent, 2 · latent, 1, 1]
    private final Workspace ws = new Workspace();

    /** Resnets, then a downsampler (null on the last level). */
    private record DownBlock(ResnetBlock[] resnets, Downsample downsampler) {
    }

    private VaeEncoder(Kernels k, Weights w, VaeConfig config) {
        this.k = k;
        this.config = config;
        int levels = config.levels();
        int[] widths = config.blockWidths();
        int channels = widths[0];
        int moments = 2 * config.latentChannels();
        convIn = Conv2d.load(k, w, "encoder.conv_in", config.inChannels(), channels, 3);
        downBlocks = new DownBlock[levels];
        for (int i = 0; i < levels; i++) {
            String prefix = "encoder.down_blocks." + i;
            int out = widths[i];
            ResnetBlock[] resnets = new ResnetBlock[config.layersPerBlock()];
            for (int j = 0; j < resnets.length; j++) {
                resnets[j] = ResnetBlock.load(k, w, prefix + ".resnets." + j, channels, out, 0, VaeDecoder.EPS);
                channels = out;
            }
            downBlocks[i] = new DownBlock(resnets,
                    i < levels - 1 ? Downsample.asymmetric(k, w, prefix + ".downsamplers.0", out) : null);
        }
        mid = VaeMidBlock.load(k, w, "encoder.mid_block", channels);
        normOut = GroupNorm.load(k, w, "encoder.conv_norm_out", channels, VaeDecoder.EPS);
        convOut = Conv2d.load(k, w, "encoder.conv_out", channels, moments, 3);
        quantConv = Conv2d.load(k, w, "quant_conv", moments, moments, 1);
    }

    /** The checkpoint's VAE encoder, on the kernels chosen at start-up. */
    public static VaeEncoder load(Checkpoint checkpoint) {
        return load(checkpoint.vae(), checkpoint.config().vae(), Kernels.get());
    }

    /** The encoder from a VAE's weights under diffusers names, of the shape {@code config} describes. */
    public static VaeEncoder load(Weights vae, VaeConfig config, Kernels kernels) {
        return new VaeEncoder(kernels, vae, config);
    }

    public VaeConfig config() {
        return config;
    }

    /** Latent height or width for an image of {@code size} pixels. */
    public int latentSize(int size) {
        for (DownBlock block : downBlocks) {
            if (block.downsampler != null) {
                size = block.downsampler.outSize(size);
            }
        }
        return size;
    }

    /**
     * Encodes {@code image[batch, inChannels, height, width]} (values in [-1, 1]) into the latent
     * distribution's {@code mean} and clamped {@code logvar}, each {@code [batch, latentChannels, latentSize(height), latentSize(width)]}.
     */
    public void encode(float[] image, int batch, int height, int width, float[] mean, float[] logvar) {
        encode(image, batch, height, width, mean, logvar, Probe.NONE);
    }

    void encode(float[] image, int batch, int height, int width, float[] mean, float[] logvar, Probe probe) {
        checkShapes(image, batch, height, width, mean, logvar);
        ws.release(0);
        float[] moments = forward(image, batch, height, width, probe);
        int plane = config.latentChannels() * latentSize(height) * latentSize(width);
        for (int b = 0; b < batch; b++) {
            split(moments, 2 * b * plane, plane, mean, logvar, b * plane);
        }
        ws.release(0);
    }

    /**
     * Encodes like {@link #encode} but tile by tile, bounding the activations held by the tile: overlapping image
     * tiles of at most {@code tileSize} pixels a side are encoded on their own and their moments cross-faded across
     * the overlaps in latent space, as diffusers' tiled encode does (its GroupNorms see one tile, so results differ
     * slightly from a whole encode). {@code height} and {@code width} must be multiples of the VAE's scale factor.
     *
     * @param tileSize largest tile side in pixels, a multiple of 8 (SD); {@link VaeDecoder#DEFAULT_TILE_SIZE} by default
     * @param overlap  least overlap of neighbouring tiles in pixels, a multiple of 8 up to half the tile
     */
    public void encodeTiled(float[] image, int batch, int height, int width, float[] mean, float[] logvar,
                            int tileSize, int overlap) {
        checkShapes(image, batch, height, width, mean, logvar);
        int factor = 1 << (downBlocks.length - 1);
        if (height % factor != 0 || width % factor != 0) {
            throw new IllegalArgumentException("VAE tiled encode: height " + height + " and width " + width
                    + " must be multiples of " + factor + " (the VAE's scale factor)");
        }
        Tiles.check(tileSize, overlap, factor);
        int latentHeight = height / factor;
        int latentWidth = width / factor;
        Tiles rows = new Tiles(latentHeight, tileSize / factor, overlap / factor, 1);
        Tiles cols = new Tiles(latentWidth, tileSize / factor, overlap / factor, 1);
        int in = config.inChannels();
        int moments = 2 * config.latentChannels();
        int plane = config.latentChannels() * latentHeight * latentWidth;
        ws.release(0);
        float[] blended = ws.take(2L * plane);
        float[] window = ws.take((long) in * rows.tile * factor * cols.tile * factor);
        for (int b = 0; b < batch; b++) {
            Arrays.fill(blended, 0, 2 * plane, 0f);
            for (int r = 0; r < rows.count(); r++) {
                for (int c = 0; c < cols.count(); c++) {
                    Tiles.crop(image, b * in * height * width, in, height, width, rows.start(r) * factor,
                            cols.start(c) * factor, rows.tile * factor, cols.tile * factor, window);
                    int mark = ws.mark();
                    float[] tile = forward(window, 1, rows.tile * factor, cols.tile * factor, Probe.NONE);
                    Tiles.blend(tile, moments, rows, r, cols, c, blended, 0, latentHeight, latentWidth);
                    ws.release(mark);
                }
            }
            split(blended, 0, plane, mean, logvar, b * plane);
        }
        ws.release(0);
    }

    private void checkShapes(float[] image, int batch, int height, int width, float[] mean, float[] logvar) {
        int smallest = 1 << (downBlocks.length - 1); // each padded stride-2 conv needs two pixels
        if (batch < 1 || height < smallest || width < smallest) {
            throw new IllegalArgumentException("VAE encoder: batch " + batch + " must be positive, height " + height
                    + " and width " + width + " at least " + smallest);
        }
        int latent = config.latentChannels();
        int latentPixels = latentSize(height) * latentSize(width);
        VaeDecoder.requireLength("image", image, (long) batch * config.inChannels() * height * width);
        VaeDecoder.requireLength("mean", mean, (long) batch * latent * latentPixels);
        VaeDecoder.requireLength("logvar", logvar, (long) batch * latent * latentPixels);
    }

    /**
     * The network up to quant_conv: returns {@code moments[batch, 2 · latent, latentSize(height), latentSize(width)]}
     * in a workspace buffer taken above the current mark, valid until the caller releases it.
     */
    private float[] forward(float[] image, int batch, int height, int width, Probe probe) {
        int latent = config.latentChannels();
        float[] cur = ws.take(capacity(batch, height, width));
        float[] next = ws.take(capacity(batch, height, width));
        int h = height;
        int w = width;
        convIn.forward(image, batch, h, w, cur);
        int channels = convIn.out;
        for (int i = 0; i < downBlocks.length; i++) {
            DownBlock block = downBlocks[i];
            for (ResnetBlock resnet : block.resnets) {
                resnet.forward(cur, batch, h, w, null, next, ws);
                float[] swap = cur;
                cur = next;
                next = swap;
                channels = resnet.out;
            }
            if (block.downsampler != null) {
                block.downsampler.forward(cur, batch, h, w, next);
                h = block.downsampler.outSize(h);
                w = block.downsampler.outSize(w);
                float[] swap = cur;
                cur = next;
                next = swap;
            }
            probe.record("down_blocks", i, cur, batch * channels * h * w);
        }
        mid.forward(cur, batch, h, w, next, ws);
        probe.record("mid_block", -1, next, batch * channels * h * w);
        normOut.forward(next, batch, h * w, true, cur);
        int moments = 2 * latent;
        convOut.forward(cur, batch, h, w, next);
        probe.record("encoder_out", -1, next, batch * moments * h * w);
        quantConv.forward(next, batch, h, w, cur);
        probe.record("moments", -1, cur, batch * moments * h * w);
        return cur;
    }

    /** One image's {@code moments[2 · plane]} from {@code from} into mean and clamped logvar ({@code plane} each) at {@code to}. */
    private static void split(float[] moments, int from, int plane, float[] mean, float[] logvar, int to) {
        System.arraycopy(moments, from, mean, to, plane);
        for (int i = 0; i < plane; i++) {
            logvar[to + i] = Math.clamp(moments[from + plane + i], LOGVAR_MIN, LOGVAR_MAX);
        }
    }

    /**
     * A draw from the latent distribution, scaled for the sampler:
     * {@code out = (mean + exp(logvar / 2) · noise) · scalingFactor} over {@code n} values (noise ~ N(0, 1)).
     */
    public void sample(float[] mean, float[] logvar, float[] noise, int n, float[] out) {
        float scalingFactor = config.scalingFactor();
        for (int i = 0; i < n; i++) {
            float std = (float) Math.exp(0.5f * logvar[i]);
            out[i] = (mean[i] + std * noise[i]) * scalingFactor;
        }
    }

    /** Drops the activation buffers kept for the next call, e.g. before another network runs; the next call allocates them again. */
    public void releaseBuffers() {
        ws.clear();
    }

    /** The largest activation between conv_in and quant_conv. */
    private long capacity(int batch, int height, int width) {
        long capacity = (long) batch * Math.max(convIn.out, 2 * config.latentChannels()) * height * width;
        int h = height;
        int w = width;
        for (DownBlock block : downBlocks) {
            for (ResnetBlock resnet : block.resnets) {
                capacity = Math.max(capacity, (long) batch * Math.max(resnet.in, resnet.out) * h * w);
            }
            if (block.downsampler != null) {
                h = block.downsampler.outSize(h);
                w = block.downsampler.outSize(w);
            }
        }
        return capacity;
    }
}
