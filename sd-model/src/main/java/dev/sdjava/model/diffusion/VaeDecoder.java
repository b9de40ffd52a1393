package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.VaeConfig;
import dev.sdjava.model.Weights;
import java.util.Arrays;

/**
 * Latents to image, the decoding half of AutoencoderKL:
 *
 * <pre>
 * z = latents / scaling_factor;  h = conv_in(post_quant_conv(z));  h = mid(h)
 * up level i: resnet × (layers + 1); nearest ×2 + 3x3 conv (not on the last level)
 * image = conv_out(silu(conv_norm_out(h)))          (not clamped: nominally in [-1, 1])
 * </pre>
 *
 * One call at a time per instance; repeated calls at one size allocate no activations (until {@link #releaseBuffers()}).
 * {@link #decodeTiled} bounds them by a tile size for large images.
 */
public final class VaeDecoder {
    /** Every GroupNorm of the VAE uses eps 1e-6 (pitfall 11). */
    static final float EPS = 1e-6f;
    /** diffusers' tile for SD 1.x ({@code sample_size} 512), in pixels. */
    public static final int DEFAULT_TILE_SIZE = 512;
    /** diffusers' overlap: a quarter of the tile ({@code tile_overlap_factor} 0.25), in pixels. */
    public static final int DEFAULT_TILE_OVERLAP = 128;

    private final Kernels k;
    private final VaeConfig config;
    private final Conv2d postQuantConv;   // [latent, latent, 1, 1]
    private final Conv2d convIn;          // [cTop, latent, 3, 3]
    private final VaeMidBlock mid;
    private final UpBlock[] upBlocks;
    private final GroupNorm normOut;      // [c0]
    private final Conv2d convOut;         // [image, c0, 3, 3]
    private final Workspace ws = new Workspace();

    /** Resnets, then an upsampler (null on the last level). */
    private record UpBlock(ResnetBlock[] resnets, Upsample upsampler) {
    }

    private VaeDecoder(Kernels k, Weights w, VaeConfig config) {
        this.k = k;
        this.config = config;
        int latent = config.latentChannels();
        int levels = config.levels();
        int[] widths = config.blockWidths();
        int channels = widths[levels - 1];
        postQuantConv = Conv2d.load(k, w, "post_quant_conv", latent, latent, 1);
        convIn = Conv2d.load(k, w, "decoder.conv_in", latent, channels, 3);
        mid = VaeMidBlock.load(k, w, "decoder.mid_block", channels);
        upBlocks = new UpBlock[levels];
        for (int i = 0; i < levels; i++) {
            String prefix = "decoder.up_blocks." + i;
            int out = widths[levels - 1 - i];
            ResnetBlock[] resnets = new ResnetBlock[config.layersPerBlock() + 1];
            for (int j = 0; j < resnets.length; j++) {
                resnets[j] = ResnetBlock.load(k, w, prefix + ".resnets." + j, channels, out, 0, EPS);
                channels = out;
            }
            upBlocks[i] = new UpBlock(resnets, i < levels - 1 ? Upsample.load(k, w, prefix + ".upsamplers.0", out) : null);
        }
        normOut = GroupNorm.load(k, w, "decoder.conv_norm_out", channels, EPS);
        convOut = Conv2d.load(k, w, "decoder.conv_out", channels, config.outChannels(), 3);
    }

    /** The checkpoint's VAE decoder, on the kernels chosen at start-up. */
    public static VaeDecoder load(Checkpoint checkpoint) {
        return load(checkpoint.vae(), checkpoint.config().vae(), Kernels.get());
    }

    /** The decoder from a VAE's weights under diffusers names, of the shape {@code config} describes. */
    public static VaeDecoder load(Weights vae, VaeConfig config, Kernels kernels) {
        return new VaeDecoder(kernels, vae, config);
    }

    public VaeConfig config() {
        return config;
    }

    /** Image height or width for a latent of {@code size}: ×2 per upsampler (×8 for SD). */
    public int imageSize(int size) {
        return size << (upBlocks.length - 1);
    }

    /**
     * Decodes {@code latents[batch, latentChannels, height, width]} as the sampler leaves them, i.e. scaled: they
     * are divided by the config's scaling factor first. Writes
     * {@code image[batch, outChannels, imageSize(height), imageSize(width)]}, not clamped (nominally [-1, 1]).
     */
    public void decode(float[] latents, int batch, int height, int width, float[] image) {
        decode(latents, batch, height, width, image, Probe.NONE);
    }

    void decode(float[] latents, int batch, int height, int width, float[] image, Probe probe) {
        checkShapes(latents, batch, height, width, image);
        ws.release(0);
        forward(latents, batch, height, width, image, probe);
    }

    /**
     * Decodes like {@link #decode} but tile by tile, so that the activations held (the largest: 256 channels at
     * full resolution) are bounded by the tile, not the image: the latent is cut into overlapping tiles of at most
     * {@code tileSize} pixels a side, each decoded on its own, and neighbours are cross-faded linearly across
     * their overlap of at least {@code overlap} pixels (see {@link Tiles}). As in diffusers' AutoencoderKL tiling,
     * each tile's GroupNorms see only that tile, so the image differs slightly from a whole decode, most in the
     * overlaps; a latent that fits in one tile is decoded whole, bit for bit as {@link #decode} does.
     *
     * @param tileSize largest tile side in pixels, a multiple of {@link #imageSize(int) imageSize(1)} (8 for SD);
     *                 {@value #DEFAULT_TILE_SIZE} by default, as diffusers for SD 1.x
     * @param overlap  least overlap of neighbouring tiles in pixels, a multiple of 8 up to half the tile;
     *                 {@value #DEFAULT_TILE_OVERLAP} by default (diffusers: a quarter of the tile)
     */
    public void decodeTiled(float[] latents, int batch, int height, int width, float[] image, int tileSize, int overlap) {
        checkShapes(latents, batch, height, width, image);
        int factor = imageSize(1);
        Tiles.check(tileSize, overlap, factor);
        Tiles rows = new Tiles(height, tileSize / factor, overlap / factor, factor);
        Tiles cols = new Tiles(width, tileSize / factor, overlap / factor, factor);
        int latent = config.latentChannels();
        int channels = config.outChannels();
        int imageHeight = imageSize(height);
        int imageWidth = imageSize(width);
        int imagePlane = channels * imageHeight * imageWidth;
        ws.release(0);
        float[] tileLatents = ws.take((long) latent * rows.tile * cols.tile);
        float[] tileImage = ws.take((long) channels * imageSize(rows.tile) * imageSize(cols.tile));
        for (int b = 0; b < batch; b++) {
            Arrays.fill(image, b * imagePlane, (b + 1) * imagePlane, 0f);
            for (int r = 0; r < rows.count(); r++) {
                for (int c = 0; c < cols.count(); c++) {
                    Tiles.crop(latents, b * latent * height * width, latent, height, width, rows.start(r), cols.start(c),
                            rows.tile, cols.tile, tileLatents);
                    forward(tileLatents, 1, rows.tile, cols.tile, tileImage, Probe.NONE);
                    Tiles.blend(tileImage, channels, rows, r, cols, c, image, b * imagePlane, imageHeight, imageWidth);
                }
            }
        }
        ws.release(0);
    }

    /** Bytes of scratch activations this decoder holds: kept between calls for reuse, they grow with the largest decode (or tile) so far. */
    public long workspaceBytes() {
        return ws.floats() * Float.BYTES;
    }

    private void checkShapes(float[] latents, int batch, int height, int width, float[] image) {
        if (batch < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("VAE decoder: batch " + batch + ", height " + height + " and width "
                    + width + " must be positive");
        }
        requireLength("latents", latents, (long) batch * config.latentChannels() * height * width);
        requireLength("image", image, (long) batch * config.outChannels() * imageSize(height) * imageSize(width));
    }

    /**
     * The network, its scratch taken from the workspace above its current mark and released back to it. Every stage
     * after post_quant_conv reads one of two activation buffers and writes the other, each sized for the largest
     * activation it receives ({@link #capacities}), so the widest (the last upsampler's: 256 channels at 512x512)
     * sizes one buffer, not both. The upsamplers resize a band of rows at a time and the resnets may spend their
     * input: 594 MiB of activations for a 512x512 decode, 696 before.
     */
    private void forward(float[] latents, int batch, int height, int width, float[] image, Probe probe) {
        int mark = ws.mark();
        int latent = config.latentChannels();
        float scalingFactor = config.scalingFactor();
        int n = batch * latent * height * width;
        float[] z = ws.take(n);
        for (int i = 0; i < n; i++) {
            z[i] = latents[i] / scalingFactor;
        }
        long[] capacities = capacities(batch, height, width);
        float[] cur = ws.take(capacities[0]);
        float[] next = ws.take(capacities[1]);
        postQuantConv.forward(z, batch, height, width, cur);
        probe.record("post_quant_conv", -1, cur, n);
        int h = height;
        int w = width;
        convIn.forward(cur, batch, h, w, next);
        probe.record("conv_in", -1, next, batch * convIn.out * h * w);
        mid.forward(next, batch, h, w, cur, ws);
        int channels = convIn.out;
        probe.record("mid_block", -1, cur, batch * channels * h * w);
        for (int i = 0; i < upBlocks.length; i++) {
            UpBlock block = upBlocks[i];
            for (ResnetBlock resnet : block.resnets) {
                resnet.forwardSpendingInput(cur, batch, h, w, null, next, ws);
                float[] swap = cur;
                cur = next;
                next = swap;
                channels = resnet.out;
            }
            if (block.upsampler != null) {
                block.upsampler.forwardInBands(cur, batch, h, w, next, ws);
                float[] swap = cur;
                cur = next;
                next = swap;
                h *= 2;
                w *= 2;
            }
            probe.record("up_blocks", i, cur, batch * channels * h * w);
        }
        normOut.forward(cur, batch, h * w, true, cur);
        convOut.forward(cur, batch, h, w, image);
        ws.release(mark);
    }

    /**
     * Drops the activation buffers kept for the next call (about 590 MiB at 512x512), e.g. before another network
     * runs; the next call allocates them again.
     */
    public void releaseBuffers() {
        ws.clear();
    }

    /**
     * The floats each of {@link #forward}'s two buffers must hold: its stages in order, each writing the buffer the
     * one before did not (post_quant_conv the first).
     */
    private long[] capacities(int batch, int height, int width) {
        long spatial = (long) height * width;
        long[] need = {(long) batch * config.latentChannels() * spatial, 0};
        int at = 1;
        int channels = convIn.out;
        for (int stage = 0; stage < 2; stage++, at ^= 1) { // conv_in, then the mid block
            need[at] = Math.max(need[at], batch * channels * spatial);
        }
        for (UpBlock block : upBlocks) {
            for (ResnetBlock resnet : block.resnets) {
                channels = resnet.out;
                need[at] = Math.max(need[at], batch * channels * spatial);
                at ^= 1;
            }
            if (block.upsampler != null) {
                spatial *= 4;
                need[at] = Math.max(need[at], batch * channels * spatial);
                at ^= 1;
            }
        }
        return need;
    }

    static void requireLength(String name, float[] array, long length) {
        if (array.length < length) {
            throw new IllegalArgumentException("VAE: " + name + " has " + array.length + " floats, the shape needs " + length);
        }
    }
}
