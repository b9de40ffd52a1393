package dev.sdjava.sampling;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * A cheap preview of latents: each of the 4 latent channels contributes linearly to R, G and B, at
 * 1/8 of the image's resolution. Costs one pass over the latents, no VAE. The factors are the
 * widely used approximation for the SD 1.x/2.x VAE (A1111's "cheap approximation").
 */
public final class LatentPreview {
    private static final float[][] FACTORS = { // [latent channel][r, g, b]
            {0.298f, 0.207f, 0.208f},
            {0.187f, 0.286f, 0.173f},
            {-0.158f, 0.189f, 0.264f},
            {-0.184f, -0.271f, -0.473f}};

    private LatentPreview() {
    }

    /** Preview of batch element {@code index} of latents {@code [batch, 4, height, width]}. */
    public static BufferedImage of(float[] latents, int index, int height, int width) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] rgb = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        int plane = height * width;
        int base = index * 4 * plane;
        for (int p = 0; p < plane; p++) {
            int packed = 0;
            for (int c = 0; c < 3; c++) {
                float v = 0;
                for (int l = 0; l < 4; l++) {
                    v += FACTORS[l][c] * latents[base + l * plane + p];
                }
                packed = packed << 8 | Images.toUint8(v);
            }
            rgb[p] = packed;
        }
        return image;
    }
}
