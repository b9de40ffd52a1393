package dev.sdjava.sampling;

import java.awt.image.BufferedImage;
import java.time.Duration;

/**
 * Where a generation stands, handed to a {@link ProgressListener} after every model evaluation.
 * Valid only during the call: {@link #preview()} reads the live latents.
 */
public final class Progress {
    private final int image;
    private final int images;
    private final int step;
    private final int steps;
    private final Duration elapsed;
    private final float[] latents;
    private final int latentHeight;
    private final int latentWidth;

    Progress(int image, int images, int step, int steps, Duration elapsed, float[] latents, int latentHeight, int latentWidth) {
        this.image = image;
        this.images = images;
        this.step = step;
        this.steps = steps;
        this.elapsed = elapsed;
        this.latents = latents;
        this.latentHeight = latentHeight;
        this.latentWidth = latentWidth;
    }

    /** Index of the image being generated (0-based) in a batch of {@link #images()}. */
    public int image() {
        return image;
    }

    public int images() {
        return images;
    }

    /** Model evaluations done for this image (1-based). */
    public int step() {
        return step;
    }

    /** Model evaluations this image takes in all. */
    public int steps() {
        return steps;
    }

    /** Time since the generation started. */
    public Duration elapsed() {
        return elapsed;
    }

    /** A cheap 1/8-resolution preview of the current latents (no VAE). */
    public BufferedImage preview() {
        return LatentPreview.of(latents, 0, latentHeight, latentWidth);
    }
}
