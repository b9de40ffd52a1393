package dev.sdjava.sampling;

import java.awt.image.BufferedImage;
import dev.sdjava.model.text.PromptSyntax;
import java.util.Objects;

/**
 * Everything that decides an image, as an immutable value built fluently from
 * {@link #txt2img(String)} or {@link #img2img(BufferedImage, String)}. Settings left at {@code null}/0
 * take the model's defaults when the request runs (size: the model's native resolution, or the init
 * image's; sampler: the model's own scheduler).
 *
 * <pre>{@code
 * GenerationRequest r = GenerationRequest.txt2img("a lighthouse at dusk")
 *         .negativePrompt("blurry").size(512, 768).steps(25)
 *         .sampler(SamplerKind.DPMPP_2M).schedule(ScheduleKind.KARRAS).seed(42)
 *         .build();
 * }</pre>
 *
 * @param prompt         what to draw
 * @param negativePrompt what to steer away from ("" for none)
 * @param width          image width in pixels, a multiple of 8; 0 = the model's default
 * @param height         image height in pixels, a multiple of 8; 0 = the model's default
 * @param steps          sampling steps (≥ 1)
 * @param guidanceScale  classifier-free guidance; ≤ 1 runs the conditional half only
 * @param sampler        the sampler, or null for the model's own scheduler
 * @param schedule       how sigmas are spaced (Karras etc.; σ-based samplers only)
 * @param seed           the seed of the torch-compatible generator, or {@link #RANDOM_SEED} for a random one (the
 *                       result records it); image {@code i} of a batch uses {@code seed + i}
 * @param batchCount     how many images, one after the other
 * @param clipSkip       A1111's "Clip skip": 1 = the text encoder's last layer, 2 = the one before, ...
 * @param promptSyntax   how prompts are read
 * @param initImage      img2img: the start image, or null for txt2img
 * @param strength       img2img: how much of the schedule runs, in (0, 1]
 * @param initialLatents txt2img: the initial noise {@code [1, 4, height/8, width/8]} instead of drawing it
 *                       (diffusers' {@code latents=}), or null
 * @param vaeTiling      whether the VAE works in tiles (flat memory for large images); {@link VaeTiling#AUTO}
 *                       by default: only above 768x768 pixels
 */
public record GenerationRequest(String prompt, String negativePrompt, int width, int height, int steps, double guidanceScale,
                                SamplerKind sampler, ScheduleKind schedule, long seed, int batchCount, int clipSkip,
                                PromptSyntax promptSyntax, BufferedImage initImage, double strength, float[] initialLatents,
                                VaeTiling vaeTiling) {

    public static final int DEFAULT_STEPS = 20;
    public static final double DEFAULT_GUIDANCE = 7.5;
    public static final double DEFAULT_STRENGTH = 0.75;
    /** Draw a random seed when the request runs (A1111's -1). */
    public static final long RANDOM_SEED = -1;
    /** Largest side accepted: 4096 px, 16x the area of SD's native 1024² upper range. */
    public static final int MAX_SIDE = 4096;

    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(negativePrompt, "negativePrompt");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(promptSyntax, "promptSyntax");
        Objects.requireNonNull(vaeTiling, "vaeTiling");
        checkSide("width", width);
        checkSide("height", height);
        if (steps < 1 || steps > 1000) {
            throw new IllegalArgumentException("steps must be between 1 and 1000, got " + steps);
        }
        if (!Double.isFinite(guidanceScale) || guidanceScale < 0) {
            throw new IllegalArgumentException("guidance scale (cfg) must be a finite number >= 0, got " + guidanceScale);
        }
        if (batchCount < 1 || batchCount > 1000) {
            throw new IllegalArgumentException("batch count must be between 1 and 1000, got " + batchCount);
        }
        if (clipSkip < 1 || clipSkip > 12) {
            throw new IllegalArgumentException("clip skip must be between 1 (last layer) and 12, got " + clipSkip);
        }
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength must be in (0, 1], got " + strength);
        }
        if (sampler != null && schedule != ScheduleKind.DEFAULT && !sampler.usesSigmas()) {
            throw new IllegalArgumentException("sampler " + sampler.id() + " has no sigma schedule; schedule "
                    + schedule.id() + " applies to sigma-based samplers only");
        }
        if (seed < RANDOM_SEED) {
            throw new IllegalArgumentException("seed must be >= 0, or -1 for a random one, got " + seed);
        }
        if (initImage != null && initialLatents != null) {
            throw new IllegalArgumentException("initial latents apply to txt2img only, not to img2img");
        }
        initialLatents = initialLatents == null ? null : initialLatents.clone();
    }

    private static void checkSide(String name, int pixels) {
        if (pixels != 0 && (pixels < 8 || pixels > MAX_SIDE || pixels % 8 != 0)) {
            throw new IllegalArgumentException(name + " must be a multiple of 8 between 8 and " + MAX_SIDE
                    + " pixels, got " + pixels);
        }
    }

    /** A text-to-image request builder with every other setting at its default. */
    public static Builder txt2img(String prompt) {
        return new Builder(prompt);
    }

    /** An image-to-image (SDEdit) request builder at strength {@value #DEFAULT_STRENGTH}; the size defaults to the image's. */
    public static Builder img2img(BufferedImage image, String prompt) {
        return new Builder(prompt).initImage(Objects.requireNonNull(image, "image")).strength(DEFAULT_STRENGTH);
    }

    /** A builder holding this request's settings, to derive another request from it. */
    public Builder toBuilder() {
        Builder b = new Builder(prompt);
        b.negativePrompt = negativePrompt;
        b.width = width;
        b.height = height;
        b.steps = steps;
        b.guidanceScale = guidanceScale;
        b.sampler = sampler;
        b.schedule = schedule;
        b.seed = seed;
        b.batchCount = batchCount;
        b.clipSkip = clipSkip;
        b.promptSyntax = promptSyntax;
        b.initImage = initImage;
        b.strength = strength;
        b.initialLatents = initialLatents;
        b.vaeTiling = vaeTiling;
        return b;
    }

    public boolean isImg2img() {
        return initImage != null;
    }

    @Override
    public float[] initialLatents() {
        return initialLatents == null ? null : initialLatents.clone();
    }

    /** Collects settings; {@link #build()} validates them all at once. */
    public static final class Builder {
        private String prompt;
        private String negativePrompt = "";
        private int width;
        private int height;
        private int steps = DEFAULT_STEPS;
        private double guidanceScale = DEFAULT_GUIDANCE;
        private SamplerKind sampler;
        private ScheduleKind schedule = ScheduleKind.DEFAULT;
        private long seed = RANDOM_SEED;
        private int batchCount = 1;
        private int clipSkip = 1;
        private PromptSyntax promptSyntax = PromptSyntax.A1111;
        private BufferedImage initImage;
        private double strength = 1.0;
        private float[] initialLatents;
        private VaeTiling vaeTiling = VaeTiling.AUTO;

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        public Builder prompt(String p) {
            prompt = p;
            return this;
        }

        public Builder negativePrompt(String n) {
            negativePrompt = n;
            return this;
        }

        public Builder size(int w, int h) {
            width = w;
            height = h;
            return this;
        }

        public Builder steps(int s) {
            steps = s;
            return this;
        }

        public Builder guidanceScale(double g) {
            guidanceScale = g;
            return this;
        }

        public Builder sampler(SamplerKind s) {
            sampler = s;
            return this;
        }

        public Builder schedule(ScheduleKind k) {
            schedule = k;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public Builder batchCount(int n) {
            batchCount = n;
            return this;
        }

        public Builder clipSkip(int c) {
            clipSkip = c;
            return this;
        }

        public Builder promptSyntax(PromptSyntax s) {
            promptSyntax = s;
            return this;
        }

        public Builder initImage(BufferedImage image) {
            initImage = image;
            return this;
        }

        public Builder strength(double s) {
            strength = s;
            return this;
        }

        public Builder initialLatents(float[] latents) {
            initialLatents = latents;
            return this;
        }

        public Builder vaeTiling(VaeTiling t) {
            vaeTiling = t;
            return this;
        }

        public GenerationRequest build() {
            return new GenerationRequest(prompt, negativePrompt, width, height, steps, guidanceScale, sampler, schedule,
                    seed, batchCount, clipSkip, promptSyntax, initImage, strength, initialLatents, vaeTiling);
        }
    }
}
