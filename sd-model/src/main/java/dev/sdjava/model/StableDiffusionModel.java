package dev.sdjava.model;

import dev.sdjava.model.diffusion.UNet;
import dev.sdjava.model.diffusion.VaeDecoder;
import dev.sdjava.model.diffusion.VaeEncoder;
import dev.sdjava.model.text.ClipTextEncoder;
import dev.sdjava.model.text.ClipTokenizer;
import dev.sdjava.kernels.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Stable Diffusion 1.x / 2.x model ready to run: tokenizer, text encoder, U-Net, VAE decoder and
 * encoder, and everything detected about them ({@link #config()}: attention heads, prediction type,
 * noise schedule, VAE scaling). Load a diffusers folder or a single {@code .safetensors} file:
 *
 * <pre>{@code
 * try (StableDiffusionModel model = StableDiffusionModel.load(Path.of("v1-5-pruned-emaonly.safetensors"))) {
 *     float[] context = model.encodePrompt("a lighthouse at dusk", 0);   // [77, D] for the U-Net
 * }
 * }</pre>
 *
 * The weights are copied into the networks at load, and each one's mapped pages are then given back to the
 * operating system: the file stays mapped (for {@link #checkpoint()}) until {@link #close()}, but not resident.
 * The first load in a process also warms the kernels up ({@link Kernels#warmUp()}).
 */
public final class StableDiffusionModel implements AutoCloseable {
    /** Whether this process has warmed the kernels up: once is enough. */
    private static final AtomicBoolean KERNELS_WARM = new AtomicBoolean();

    private final Checkpoint checkpoint;
    private final ClipTokenizer tokenizer;
    private final ClipTextEncoder textEncoder;
    private final UNet unet;
    private final VaeDecoder vaeDecoder;
    private final VaeEncoder vaeEncoder;

    private StableDiffusionModel(Checkpoint checkpoint, ClipTokenizer tokenizer) {
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.textEncoder = new ClipTextEncoder(checkpoint.textEncoder(), checkpoint.config().textEncoder());
        this.unet = UNet.load(checkpoint);
        this.vaeDecoder = VaeDecoder.load(checkpoint);
        this.vaeEncoder = VaeEncoder.load(checkpoint);
    }

    public static StableDiffusionModel load(Path path) {
        return load(path, LoadOptions.defaults());
    }

    /** Loads a diffusers folder or single file; see {@link Checkpoint#open(Path, LoadOptions)}. */
    public static StableDiffusionModel load(Path path, LoadOptions options) {
        Checkpoint checkpoint = Checkpoint.open(path, options);
        try {
            warmUpKernels();
            ModelConfig config = checkpoint.config();
            // SD 2's tokenizer pads with "!" (id 0), SD 1's with <|endoftext|>: the pad ids reach the U-Net.
            String pad = config.family() == ModelFamily.SD1 ? ClipTokenizer.SD1_PAD_TOKEN : ClipTokenizer.SD2_PAD_TOKEN;
            Path folder = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
            ClipTokenizer tokenizer = Files.isDirectory(path) && Files.isDirectory(folder.resolve("tokenizer"))
                    ? ClipTokenizer.fromFolder(folder, pad)
                    : ClipTokenizer.bundled(pad); // single files carry no vocabulary: all SD 1/2 models share CLIP's
            return new StableDiffusionModel(checkpoint, tokenizer);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * Lets the JIT compile the kernels on small shapes, once per process, after the file checks out and before the
     * weights fill the heap. Cold Vector API code runs many times slower and allocates an object per vector: a first
     * 256x256 VAE decode measured 30 s and 3.6 GB of garbage cold, 11 s and 0.5 GB after the warm-up; that garbage
     * is what grew the heap (and the resident memory) during the first generation.
     */
    private static void warmUpKernels() {
        if (KERNELS_WARM.compareAndSet(false, true)) {
            Kernels.get().warmUp();
        }
    }

    /**
     * The U-Net's conditioning for one prompt, {@code [77, D]}: tokenized as diffusers does (truncated
     * to 75 tokens) and encoded.
     *
     * @param clipSkip 0 for the last layer; see {@link ClipTextEncoder#encode(int[], int, int, float[])}
     */
    public float[] encodePrompt(String prompt, int clipSkip) {
        return textEncoder.encode(tokenizer.encodeRow(prompt), 1, clipSkip);
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ClipTextEncoder textEncoder() {
        return textEncoder;
    }

    public UNet unet() {
        return unet;
    }

    /** Latents (scaled, as samplers leave them) to images. */
    public VaeDecoder vaeDecoder() {
        return vaeDecoder;
    }

    /** Images to latent distributions, for img2img. */
    public VaeEncoder vaeEncoder() {
        return vaeEncoder;
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    /** The weights under diffusers names, for tools (merging, LoRA) that work on tensors. */
    public Checkpoint checkpoint() {
        return checkpoint;
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
