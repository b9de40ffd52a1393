package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.Closeness;
import dev.sdjava.model.diffusion.Goldens.Source;
import dev.sdjava.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Tiled VAE decode and encode on the tiny models: against the whole pass they replace, and their memory. */
class VaeTilingTest {

    /** A latent that fits in one tile goes through the tiled path unchanged: the same floats as a whole decode. */
    @ParameterizedTest
    @EnumSource(names = {"SD1_FOLDER", "SD2V_FOLDER"})
    void oneTileIsTheWholeDecodeBitForBit(Source source) {
        VaeDecoder decoder = VaeDecoder.load(source.checkpoint());
        float[] latents = random(2 * 4 * 8 * 12, 1);
        float[] whole = new float[2 * 3 * 64 * 96];
        decoder.decode(latents, 2, 8, 12, whole);
        for (int tile : new int[] {96, VaeDecoder.DEFAULT_TILE_SIZE}) {
            float[] tiled = new float[whole.length];
            decoder.decodeTiled(latents, 2, 8, 12, tiled, tile, 32);
            assertArrayEquals(whole, tiled, "tile " + tile);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"SD1_FOLDER", "SD2V_FOLDER"})
    void oneTileIsTheWholeEncodeBitForBit(Source source) {
        VaeEncoder encoder = VaeEncoder.load(source.checkpoint());
        float[] image = random(3 * 64 * 96, 0.5f);
        float[] mean = new float[4 * 8 * 12], logvar = new float[mean.length];
        encoder.encode(image, 1, 64, 96, mean, logvar);
        float[] tiledMean = new float[mean.length], tiledLogvar = new float[mean.length];
        encoder.encodeTiled(image, 1, 64, 96, tiledMean, tiledLogvar, 96, 32);
        assertArrayEquals(mean, tiledMean);
        assertArrayEquals(logvar, tiledLogvar);
    }

    /**
     * Several tiles (20x14 latents, odd and non-square, in 3x2 tiles of 8 latents): the overlaps are cross-faded.
     * Each tile's GroupNorms and mid-block attention see only the tile, so with these random weights (whose
     * decoders are far less local than a trained one) the tiled image is not near the whole one in the sense of
     * the goldens' 1e-5: measured rel L2 0.08-0.10 for tiles of 16 latents and 0.20-0.26 for tiles of 8. The
     * bounds hold that error to its measured size with a margin, and check what the blend is for: against tiles
     * butted together without overlap (hard seams, rel L2 0.42-0.49 and jumps of the error of ~1.0 between adjacent
     * pixels), the error is at least a third smaller and its largest pixel-to-pixel jump halves. The blend itself is
     * checked exactly, network aside, by {@link TilesTest}.
     */
    @ParameterizedTest
    @EnumSource(names = {"SD1_FOLDER", "SD2V_FOLDER"})
    void overlappingTilesAreBlendedCloseToTheWholeDecode(Source source) {
        VaeDecoder decoder = VaeDecoder.load(source.checkpoint());
        int h = 20, w = 14;
        float[] latents = random(4 * h * w, 1);
        float[] whole = new float[3 * 64 * h * w];
        decoder.decode(latents, 1, h, w, whole);
        float[] butted = new float[whole.length], blended = new float[whole.length], large = new float[whole.length];
        decoder.decodeTiled(latents, 1, h, w, butted, 64, 0);
        decoder.decodeTiled(latents, 1, h, w, blended, 64, 32);
        decoder.decodeTiled(latents, 1, h, w, large, 128, 32);
        double buttedError = relL2(butted, whole), blendedError = relL2(blended, whole), largeError = relL2(large, whole);
        assertTrue(largeError < 0.15, "tiles of 128 px: rel L2 " + largeError);
        assertTrue(blendedError < 0.3, "tiles of 64 px: rel L2 " + blendedError);
        assertTrue(blendedError < 0.67 * buttedError, "blended " + blendedError + " vs butted " + buttedError);
        assertTrue(largeError < blendedError, "larger tiles are closer to the whole decode");
        double buttedJump = largestJump(butted, whole, 8 * h, 8 * w), blendedJump = largestJump(blended, whole, 8 * h, 8 * w);
        assertTrue(blendedJump < 0.5 * buttedJump, "error jumps: blended " + blendedJump + " vs butted " + buttedJump);
    }

    /**
     * The encoder's tiles are cross-faded in latent space; same reasoning as the decoder's (measured: rel L2 0.16 of
     * the mean for tiles of 128 px overlapping by 32, 0.31 for the same tiles butted).
     */
    @Test
    void overlappingEncoderTilesAreCloseToTheWholeEncode() {
        VaeEncoder encoder = VaeEncoder.load(Source.SD1_FOLDER.checkpoint());
        int h = 160, w = 112;
        float[] image = random(3 * h * w, 0.5f);
        float[] mean = new float[4 * 20 * 14], logvar = new float[mean.length];
        encoder.encode(image, 1, h, w, mean, logvar);
        float[] tiledMean = new float[mean.length], tiledLogvar = new float[mean.length];
        encoder.encodeTiled(image, 1, h, w, tiledMean, tiledLogvar, 128, 32);
        float[] buttedMean = new float[mean.length];
        encoder.encodeTiled(image, 1, h, w, buttedMean, tiledLogvar, 128, 0);
        double error = relL2(tiledMean, mean), butted = relL2(buttedMean, mean);
        assertTrue(error < 0.25, "mean: rel L2 " + error);
        assertTrue(error < 0.67 * butted, "blended " + error + " vs butted " + butted);
    }

    /**
     * The activations held depend on the tile, not the image: three images of different sizes and shapes, each
     * cut into tiles of exactly 8x8 latents, leave the same workspace as one 8x8 latent does.
     */
    @Test
    void workspaceDependsOnTheTileOnly() {
        VaeDecoder decoder = VaeDecoder.load(Source.SD1_FOLDER.checkpoint());
        long[] held = new long[3];
        int[][] sizes = {{8, 8}, {20, 14}, {32, 20}}; // n · 8 − (n − 1) · 2: tiles of exactly 8 with overlap 2
        for (int i = 0; i < sizes.length; i++) {
            VaeDecoder fresh = VaeDecoder.load(Source.SD1_FOLDER.checkpoint());
            int h = sizes[i][0], w = sizes[i][1];
            fresh.decodeTiled(random(4 * h * w, 1), 1, h, w, new float[3 * 64 * h * w], 64, 16);
            held[i] = fresh.workspaceBytes();
        }
        assertEquals(held[0], held[1]);
        assertEquals(held[0], held[2]);
        decoder.decode(random(4 * 32 * 20, 1), 1, 32, 20, new float[3 * 64 * 32 * 20]);
        assertTrue(decoder.workspaceBytes() > 8 * held[0], "whole decode of 32x20 holds " + decoder.workspaceBytes()
                + " bytes, tiles of 8x8 " + held[0]);
    }

    @Test
    void badTilingIsRefusedNamingTheParameter() {
        VaeDecoder decoder = VaeDecoder.load(Source.SD1_FOLDER.checkpoint());
        float[] latents = new float[4 * 8 * 8], image = new float[3 * 64 * 64];
        assertMessage("tile size 500", () -> decoder.decodeTiled(latents, 1, 8, 8, image, 500, 128));
        assertMessage("tile size 0", () -> decoder.decodeTiled(latents, 1, 8, 8, image, 0, 0));
        assertMessage("overlap 12", () -> decoder.decodeTiled(latents, 1, 8, 8, image, 512, 12));
        assertMessage("overlap 264", () -> decoder.decodeTiled(latents, 1, 8, 8, image, 512, 264));
        assertMessage("overlap -8", () -> decoder.decodeTiled(latents, 1, 8, 8, image, 512, -8));
        assertMessage("image has", () -> decoder.decodeTiled(latents, 1, 8, 8, new float[10], 512, 128));
        VaeEncoder encoder = VaeEncoder.load(Source.SD1_FOLDER.checkpoint());
        float[] mean = new float[4 * 8 * 8];
        assertMessage("height 60", () -> encoder.encodeTiled(new float[3 * 60 * 64], 1, 60, 64, mean, mean.clone(), 512, 128));
        assertMessage("tile size 100", () -> encoder.encodeTiled(image, 1, 64, 64, mean, mean.clone(), 100, 16));
    }

    private static void assertMessage(String part, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention '" + part + "'");
    }

    private static double relL2(float[] actual, float[] expected) {
        try (Arena arena = Arena.ofConfined()) {
            return Closeness.of(actual, Tensor.ofFloats(arena, expected, expected.length)).relL2();
        }
    }

    /** The largest change of the error (actual − expected) between horizontally or vertically adjacent pixels. */
    private static double largestJump(float[] actual, float[] expected, int height, int width) {
        double jump = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = actual[i] - expected[i];
            int x = i % width, y = i / width % height;
            if (x > 0) {
                jump = Math.max(jump, Math.abs(e - (actual[i - 1] - expected[i - 1])));
            }
            if (y > 0) {
                jump = Math.max(jump, Math.abs(e - (actual[i - width] - expected[i - width])));
            }
        }
        return jump;
    }

    private static float[] random(int n, float sd) {
        SplittableRandom rnd = new SplittableRandom(n);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian() * sd;
        }
        return a;
    }
}
