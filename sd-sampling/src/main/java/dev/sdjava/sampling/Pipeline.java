package dev.sdjava.sampling;

import dev.sdjava.model.LoadOptions;
import dev.sdjava.model.ModelConfig;
import dev.sdjava.model.PredictionType;
import dev.sdjava.model.SchedulerConfig;
import dev.sdjava.model.StableDiffusionModel;
import dev.sdjava.model.diffusion.UNet;
import dev.sdjava.model.diffusion.VaeDecoder;
import dev.sdjava.model.text.ClipTokenizer;
import dev.sdjava.model.text.PromptChunks;
import dev.sdjava.model.text.PromptParser;
import dev.sdjava.model.text.PromptSyntax;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Stable Diffusion text-to-image and image-to-image: load a checkpoint once, generate many images.
 *
 * <pre>{@code
 * try (Pipeline sd = Pipeline.load(Path.of("v1-5-pruned-emaonly.safetensors"))) {
 *     sd.txt2img("a lighthouse at dusk").savePng(0, Path.of("lighthouse.png"));
 *     Result r = sd.generate(GenerationRequest.txt2img("a lighthouse at dusk")
 *             .sampler(SamplerKind.DPMPP_2M).schedule(ScheduleKind.KARRAS).steps(20).seed(42).build());
 * }
 * }</pre>
 *
 * <p>Each call follows diffusers' StableDiffusionPipeline / StableDiffusionImg2ImgPipeline step for step,
 * so with {@link PromptSyntax#LITERAL} prompts the same seed gives the same image as diffusers on CPU.
 * A pipeline is thread-safe: generations from several threads run one after the other, since each
 * already uses every core.
 */
public final class Pipeline implements AutoCloseable {
    /** Beyond this many 75-token chunks (4,800 tokens) a prompt is refused rather than silently slow. */
    public static final int MAX_PROMPT_CHUNKS = 64;

    private final StableDiffusionModel model;
    private final Path source;
    private final NoiseSchedule noise;
    private String modelHash; // computed on first use: hashing a 2 GB file takes a second or two

    private Pipeline(StableDiffusionModel model, Path source) {
        this.model = model;
        this.source = source;
        SchedulerConfig s = model.config().scheduler();
        this.noise = NoiseSchedule.fromConfig(s.numTrainTimesteps(), s.betaStart(), s.betaEnd(), s.betaSchedule(), s.stepsOffset());
    }

    /** Loads a diffusers folder or a single {@code .safetensors} checkpoint. */
    public static Pipeline load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    /** Loads with overrides for what the configs or family defaults would say (heads, prediction type, ...). */
    public static Pipeline load(Path path, LoadOptions options) {
        StableDiffusionModel model = StableDiffusionModel.load(path, options);
        try {
            return new Pipeline(model, path);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return model.config();
    }

    /** One image for {@code prompt}, every setting at its default. */
    public Result txt2img(String prompt) {
        return generate(GenerationRequest.txt2img(prompt).build());
    }

    public Result generate(GenerationRequest request) {
        return generate(request, ProgressListener.NONE, new Cancellation());
    }

    /**
     * Runs {@code request}, telling {@code listener} after every model evaluation.
     *
     * @throws CancellationException if {@code cancellation} was cancelled before the run ended
     */
    public synchronized Result generate(GenerationRequest request, ProgressListener listener, Cancellation cancellation) {
        GenerationRequest resolved = resolve(request);
        int height = resolved.height() / 8;
        int width = resolved.width() / 8;
        int latentSize = 4 * height * width;
        boolean guided = resolved.guidanceScale() > 1;
        Conditioning conditioning = encodePrompts(resolved, guided);
        float[] initLatents = resolved.isImg2img() ? null : resolved.initialLatents();
        if (initLatents != null && initLatents.length != latentSize) {
            throw new IllegalArgumentException("initial latents hold " + initLatents.length + " values; a "
                    + resolved.width() + "x" + resolved.height() + " image needs [1, 4, " + height + ", " + width + "] = "
                    + latentSize);
        }
        float[][] moments = resolved.isImg2img() ? encodeImage(resolved, height, width) : null;

        Schedule schedule = Schedule.create(noise, resolved.sampler(), resolved.schedule(), resolved.steps());
        Sampler sampler = Sampler.create(schedule, model.config().predictionType(), latentSize);
        int start = resolved.isImg2img() ? schedule.startIndex(resolved.strength()) : 0;
        Denoiser denoiser = new GuidedDenoiser(model.unet(), conditioning, (float) resolved.guidanceScale(), height, width);
        float[] decoded = new float[3 * resolved.height() * resolved.width()];

        List<BufferedImage> images = new ArrayList<>();
        List<float[]> finals = new ArrayList<>();
        List<String> infotexts = new ArrayList<>();
        long[] seeds = new long[resolved.batchCount()];
        long started = System.nanoTime();
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = resolved.seed() + i;
            TorchGenerator generator = new TorchGenerator(seeds[i]);
            float[] latents = new float[latentSize];
            if (moments != null) {
                // diffusers' order of draws: the VAE sample, then the start noise, then each step's noise
                float[] clean = new float[latentSize];
                model.vaeEncoder().sample(moments[0], moments[1], generator.randn(1, 4, height, width), latentSize, clean);
                sampler.addNoise(start, clean, generator.randn(1, 4, height, width), latents);
            } else {
                float[] drawn = initLatents != null ? initLatents : generator.randn(1, 4, height, width);
                float sigma = schedule.initNoiseSigma();
                for (int k = 0; k < latentSize; k++) {
                    latents[k] = drawn[k] * sigma;
                }
            }
            int image = i;
            sampler.sample(denoiser, latents, start, generator, (step, total) -> {
                if (cancellation.isCancelled()) {
                    throw new CancellationException("generation cancelled after step " + step + " of " + total);
                }
                listener.onStep(new Progress(image, seeds.length, step, total,
                        Duration.ofNanos(System.nanoTime() - started), latents, height, width));
            });
            // One network at a time holds activations: the U-Net's are dropped before the VAE's (the largest) are made.
            model.unet().releaseBuffers();
            decode(resolved, latents, height, width, decoded);
            model.vaeDecoder().releaseBuffers();
            images.add(Images.toImage(decoded, 0, resolved.height(), resolved.width()));
            finals.add(latents);
            infotexts.add(Infotext.of(resolved, seeds[i], modelName(), modelHash()));
        }
        return new Result(images, finals, seeds, resolved, infotexts);
    }

    /** The request with the model's defaults filled in: size, sampler. */
    private GenerationRequest resolve(GenerationRequest request) {
        GenerationRequest.Builder b = request.toBuilder();
        int width = request.width();
        int height = request.height();
        if (request.isImg2img()) {
            // diffusers keeps the image's own size, rounded down to a multiple of 8
            width = width != 0 ? width : request.initImage().getWidth() / 8 * 8;
            height = height != 0 ? height : request.initImage().getHeight() / 8 * 8;
        }
        int side = model.config().imageSize();
        b.size(width != 0 ? width : side, height != 0 ? height : side);
        b.sampler(request.sampler() != null ? request.sampler() : defaultSampler());
        if (request.seed() == GenerationRequest.RANDOM_SEED) {
            b.seed(ThreadLocalRandom.current().nextLong(1L << 32)); // A1111's seed range
        }
        return b.build();
    }

    /** The scheduler the model ships with, as diffusers would pick it. */
    private SamplerKind defaultSampler() {
        String name = model.config().scheduler().className();
        if (name == null) {
            return model.config().predictionType() == PredictionType.V_PREDICTION ? SamplerKind.DDIM : SamplerKind.PNDM;
        }
        return switch (name) {
            case "DDIMScheduler" -> SamplerKind.DDIM;
            case "EulerDiscreteScheduler" -> SamplerKind.EULER;
            case "EulerAncestralDiscreteScheduler" -> SamplerKind.EULER_A;
            case "HeunDiscreteScheduler" -> SamplerKind.HEUN;
            case "DPMSolverMultistepScheduler" -> SamplerKind.DPMPP_2M;
            case "LMSDiscreteScheduler" -> SamplerKind.LMS;
            case "LCMScheduler" -> SamplerKind.LCM;
            default -> SamplerKind.PNDM;
        };
    }

    /** The text embeddings: {@code [uncond; cond]} when guided, else {@code cond} alone. */
    private Conditioning encodePrompts(GenerationRequest request, boolean guided) {
        PromptParser parser = new PromptParser(model.tokenizer(), request.promptSyntax());
        PromptChunks cond = parser.parse(request.prompt());
        PromptChunks uncond = guided ? parser.parse(request.negativePrompt()) : null;
        int chunks = Math.max(cond.chunkCount(), uncond == null ? 0 : uncond.chunkCount());
        if (chunks > MAX_PROMPT_CHUNKS) {
            throw new IllegalArgumentException("prompt too long: " + chunks + " chunks of 75 tokens, at most "
                    + MAX_PROMPT_CHUNKS + " are accepted");
        }
        int clipSkip = request.clipSkip() - 1;
        int tokens = chunks * ClipTokenizer.MAX_LENGTH;
        int dim = model.config().textEncoder().width();
        float[] context = new float[(guided ? 2 : 1) * tokens * dim];
        int offset = 0;
        if (guided) {
            PromptEmbedding.encode(model.textEncoder(), parser.padTo(uncond, chunks), clipSkip, context, 0);
            offset = tokens * dim;
        }
        PromptEmbedding.encode(model.textEncoder(), parser.padTo(cond, chunks), clipSkip, context, offset);
        return new Conditioning(context, tokens, guided);
    }

    /** img2img: the VAE's latent distribution {mean, logvar} of the init image at the request's size. */
    private float[][] encodeImage(GenerationRequest request, int height, int width) {
        float[] pixels = Images.toTensor(fit(request.initImage(), request.width(), request.height()));
        float[] mean = new float[4 * height * width];
        float[] logvar = new float[mean.length];
        if (request.vaeTiling().tiles(request.width(), request.height())) {
            model.vaeEncoder().encodeTiled(pixels, 1, request.height(), request.width(), mean, logvar,
                    VaeDecoder.DEFAULT_TILE_SIZE, VaeDecoder.DEFAULT_TILE_OVERLAP);
        } else {
            model.vaeEncoder().encode(pixels, 1, request.height(), request.width(), mean, logvar);
        }
        model.vaeEncoder().releaseBuffers();
        return new float[][] {mean, logvar};
    }

    /** The VAE decode, in tiles if the request's {@link VaeTiling} says so for its size. */
    private void decode(GenerationRequest request, float[] latents, int height, int width, float[] image) {
        if (request.vaeTiling().tiles(request.width(), request.height())) {
            model.vaeDecoder().decodeTiled(latents, 1, height, width, image, VaeDecoder.DEFAULT_TILE_SIZE,
                    VaeDecoder.DEFAULT_TILE_OVERLAP);
        } else {
            model.vaeDecoder().decode(latents, 1, height, width, image);
        }
    }

    /** The image at exactly {@code width x height}, resampled bicubically if it is not already. */
    private static BufferedImage fit(BufferedImage image, int width, int height) {
        if (image.getWidth() == width && image.getHeight() == height) {
            return image;
        }
        BufferedImage scaled = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scaled.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return scaled;
    }

    /** The checkpoint's name as A1111 shows it: the file or folder name without extension. */
    private String modelName() {
        String name = source.toAbsolutePath().normalize().getFileName().toString();
        return name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
    }

    /** A1111's short model hash (the first 10 hex digits of the file's SHA-256); null for folders. */
    private String modelHash() {
        if (modelHash == null && Files.isRegularFile(source)) {
            try (InputStream in = Files.newInputStream(source)) {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                byte[] buffer = new byte[1 << 20];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    sha.update(buffer, 0, n);
                }
                modelHash = HexFormat.of().formatHex(sha.digest()).substring(0, 10);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + source + " to hash it", e);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return modelHash;
    }

    @Override
    public synchronized void close() {
        model.close();
    }

    /** Text embeddings for the U-Net: {@code [batch, tokens, D]}, batch 2 (uncond, cond) when guided. */
    record Conditioning(float[] context, int tokens, boolean guided) {
    }

    /**
     * The U-Net with classifier-free guidance, as diffusers runs it: both halves in one batch-2 call,
     * {@code uncond + g·(cond − uncond)}. Its buffers are allocated once per generation.
     */
    private static final class GuidedDenoiser implements Denoiser {
        private final UNet unet;
        private final Conditioning conditioning;
        private final float guidance;
        private final int height;
        private final int width;
        private final float[] batchInput;
        private final float[] batchOutput;
        private final float[] timestep = new float[1];

        GuidedDenoiser(UNet unet, Conditioning conditioning, float guidance, int height, int width) {
            this.unet = unet;
            this.conditioning = conditioning;
            this.guidance = guidance;
            this.height = height;
            this.width = width;
            int n = 4 * height * width;
            this.batchInput = conditioning.guided() ? new float[2 * n] : null;
            this.batchOutput = conditioning.guided() ? new float[2 * n] : null;
        }

        @Override
        public void predict(float[] modelInput, float t, float[] modelOutput) {
            timestep[0] = t;
            if (!conditioning.guided()) {
                unet.forward(modelInput, 1, height, width, timestep, conditioning.context(), conditioning.tokens(), modelOutput);
                return;
            }
            int n = modelOutput.length;
            System.arraycopy(modelInput, 0, batchInput, 0, n);
            System.arraycopy(modelInput, 0, batchInput, n, n);
            unet.forward(batchInput, 2, height, width, timestep, conditioning.context(), conditioning.tokens(), batchOutput);
            for (int k = 0; k < n; k++) {
                float uncond = batchOutput[k];
                modelOutput[k] = uncond + guidance * (batchOutput[n + k] - uncond);
            }
        }
    }
}
