package dev.sdjava.sampling;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What a generation produced: the images, the final latents of each (before the VAE), and the request
 * exactly as it ran (every default resolved), with the seed of each image.
 *
 * @param images     the images, in order
 * @param latents    the final latents of each image, {@code [1, 4, height/8, width/8]} flattened
 * @param seeds      the seed of each image
 * @param request    the request as it ran: size, sampler and steps resolved
 * @param infotexts  the A1111 parameters text of each image
 */
public record Result(List<BufferedImage> images, List<float[]> latents, long[] seeds, GenerationRequest request,
                     List<String> infotexts) {

    public Result {
        images = List.copyOf(images);
        latents = latents.stream().map(float[]::clone).toList();
        seeds = seeds.clone();
        infotexts = List.copyOf(infotexts);
    }

    /** The first image: a convenience for single-image requests. */
    public BufferedImage image() {
        return images.getFirst();
    }

    @Override
    public List<float[]> latents() {
        return latents.stream().map(float[]::clone).toList();
    }

    @Override
    public long[] seeds() {
        return seeds.clone();
    }

    /** Writes image {@code i} as a PNG with its parameters embedded the way A1111 does. */
    public void savePng(int i, Path file) throws IOException {
        PngFiles.write(images.get(i), infotexts.get(i), file);
    }
}
