package dev.sdjava.sampling;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * Conversions between Java images and the networks' NCHW float images, done exactly as diffusers
 * does them so that the 8-bit output matches its PIL images: {@code clamp(x / 2 + 0.5, 0, 1)}, then
 * round-half-to-even of {@code · 255}; and back, {@code u8 / 255 · 2 - 1} in float32.
 */
public final class Images {
    private Images() {
    }

    /** One 8-bit channel value of a decoded pixel in nominal [-1, 1]. */
    public static int toUint8(float decoded) {
        float unit = Math.clamp(decoded / 2f + 0.5f, 0f, 1f);
        return (int) Math.rint(unit * 255f);
    }

    /** Image {@code index} of a decoded batch {@code [batch, 3, height, width]} as an RGB image. */
    public static BufferedImage toImage(float[] decoded, int index, int height, int width) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] rgb = ((DataBufferInt) image.getRaster().getDataBuffer()).getData();
        int plane = height * width;
        int base = index * 3 * plane;
        for (int p = 0; p < plane; p++) {
            int r = toUint8(decoded[base + p]);
            int g = toUint8(decoded[base + plane + p]);
            int b = toUint8(decoded[base + 2 * plane + p]);
            rgb[p] = r << 16 | g << 8 | b;
        }
        return image;
    }

    /** An image as {@code [1, 3, height, width]} floats in [-1, 1] (alpha is ignored). */
    public static float[] toTensor(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        int plane = width * height;
        int[] argb = image.getRGB(0, 0, width, height, null, 0, width);
        float[] out = new float[3 * plane];
        for (int p = 0; p < plane; p++) {
            out[p] = channel(argb[p] >> 16);
            out[plane + p] = channel(argb[p] >> 8);
            out[2 * plane + p] = channel(argb[p]);
        }
        return out;
    }

    private static float channel(int bits) {
        return (bits & 0xff) / 255f * 2f - 1f;
    }
}
