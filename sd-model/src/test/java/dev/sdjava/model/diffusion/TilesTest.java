package dev.sdjava.model.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The tile geometry and the cross-fade, independent of any network. */
class TilesTest {

    /** Tiles cover the axis, are no larger than asked, overlap at least as asked and are evenly spread. */
    @Property(tries = 2000)
    void tilesCoverTheAxisWithTheOverlapAsked(@ForAll @IntRange(min = 1, max = 300) int length,
                                              @ForAll @IntRange(min = 1, max = 80) int maxTile,
                                              @ForAll @IntRange(min = 0, max = 40) int overlapWanted) {
        int overlap = Math.min(overlapWanted, maxTile / 2);
        Tiles t = new Tiles(length, maxTile, overlap, 1);
        assertTrue(t.tile <= maxTile && t.tile <= length, "tile " + t.tile);
        assertEquals(0, t.start(0));
        assertEquals(length - t.tile, t.start(t.count() - 1), "the last tile ends at the axis' end");
        for (int k = 1; k < t.count(); k++) {
            int shared = t.start(k - 1) + t.tile - t.start(k);
            assertTrue(shared >= overlap && shared < t.tile, "overlap " + shared + " between tiles " + (k - 1) + " and " + k);
        }
        if (length > maxTile) { // one tile fewer could not cover the axis with that overlap
            assertTrue((t.count() - 1) * (maxTile - overlap) + overlap < length, t.count() + " tiles");
        }
    }

    /**
     * The weights are a partition of unity: tiles that agree (all cut from one image) blend back into that image,
     * up to rounding, whatever the tiling; one tile alone is copied exactly.
     */
    @Property(tries = 300)
    void tilesCutFromOneImageBlendBackIntoIt(@ForAll @IntRange(min = 1, max = 40) int height,
                                             @ForAll @IntRange(min = 1, max = 40) int width,
                                             @ForAll @IntRange(min = 1, max = 16) int maxTile,
                                             @ForAll @IntRange(min = 0, max = 8) int overlapWanted,
                                             @ForAll @IntRange(min = 1, max = 3) int scale) {
        int overlap = Math.min(overlapWanted, maxTile / 2);
        Tiles rows = new Tiles(height, maxTile, overlap, scale);
        Tiles cols = new Tiles(width, maxTile, overlap, scale);
        int channels = 2, h = height * scale, w = width * scale;
        float[] image = new float[channels * h * w];
        SplittableRandom rnd = new SplittableRandom(height * 1000L + width);
        for (int i = 0; i < image.length; i++) {
            image[i] = (float) rnd.nextGaussian();
        }
        float[] out = new float[image.length];
        float[] tile = new float[channels * rows.tile * scale * cols.tile * scale];
        for (int r = 0; r < rows.count(); r++) {
            for (int c = 0; c < cols.count(); c++) {
                Tiles.crop(image, 0, channels, h, w, rows.start(r) * scale, cols.start(c) * scale, rows.tile * scale,
                        cols.tile * scale, tile);
                Tiles.blend(tile, channels, rows, r, cols, c, out, 0, h, w);
            }
        }
        for (int i = 0; i < image.length; i++) {
            assertEquals(image[i], out[i], 1e-5f * Math.max(1, Math.abs(image[i])), "value " + i);
        }
    }

    /** Across an overlap of n positions each tile's share moves by 1/n per position: a cross-fade, not a seam. */
    @Property(tries = 500)
    void sharesRampLinearlyAcrossEachOverlap(@ForAll @IntRange(min = 9, max = 200) int length,
                                             @ForAll @IntRange(min = 8, max = 40) int maxTile,
                                             @ForAll @IntRange(min = 2, max = 8) int scale) {
        int overlap = maxTile / 4;
        Tiles t = new Tiles(length, maxTile, overlap, scale);
        float[] tile = new float[t.tile * scale];
        java.util.Arrays.fill(tile, 1f);
        for (int k = 0; k < t.count(); k++) {
            float[] share = new float[length * scale];
            Tiles.blend(tile, 1, new Tiles(1, 1, 0, 1), 0, t, k, share, 0, 1, length * scale);
            for (int x = 1; x < share.length; x++) {
                double step = Math.abs(share[x] - share[x - 1]);
                boolean edge = share[x] == 0 || share[x - 1] == 0; // the tile's own edge, where its share is already small
                assertTrue(edge ? Math.max(share[x], share[x - 1]) <= 1.0 / (overlap * scale) + 1e-6
                        : step <= 1.0 / (overlap * scale) + 1e-6, "tile " + k + " at " + x + ": " + share[x - 1] + " -> " + share[x]);
            }
        }
    }
}
