package dev.sdjava.examples;

import dev.sdjava.model.LoadOptions;
import dev.sdjava.model.text.PromptSyntax;
import dev.sdjava.sampling.Cancellation;
import dev.sdjava.sampling.GenerationRequest;
import dev.sdjava.sampling.Pipeline;
import dev.sdjava.sampling.Progress;
import dev.sdjava.sampling.Result;
import dev.sdjava.sampling.SamplerKind;
import dev.sdjava.sampling.ScheduleKind;
import dev.sdjava.sampling.VaeTiling;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.SafeTensorsFormatException;
import dev.sdjava.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * {@code ./sd txt2img} and {@code ./sd img2img}: one or more images to PNG files carrying their
 * parameters, with a progress bar on stderr.
 */
final class Generate implements Command {
    private static final Set<String> FLAGS = Set.of("--model", "--prompt", "--negative", "--steps", "--cfg", "--sampler",
            "--schedule", "--seed", "--width", "--height", "--strength", "--init-image", "-o", "--prompt-syntax",
            "--latents-in", "--latents-out", "--clip-skip", "--batch-count", "--vae-tiling");

    private final boolean img2img;

    Generate(boolean img2img) {
        this.img2img = img2img;
    }

    @Override
    public String name() {
        return img2img ? "img2img" : "txt2img";
    }

    @Override
    public String usage() {
        return name() + (img2img ? " --init-image F" : "") + " --prompt TEXT [FLAGS]";
    }

    @Override
    public String summary() {
        return img2img ? "redraw an image after a prompt (SDEdit)" : "draw an image from a prompt";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        GenerationRequest request;
        Flags flags;
        try {
            flags = new Flags(args, FLAGS);
            request = request(flags);
        } catch (IllegalArgumentException e) {
            err.println("sd " + name() + ": " + e.getMessage());
            err.println("usage: ./sd " + usage() + "\n" + FLAG_HELP);
            return 2;
        } catch (IOException e) {
            err.println("sd " + name() + ": " + describe(e));
            return 1;
        }
        Path model = Path.of(flags.string("--model", defaultModel().toString()));
        Path output = Path.of(flags.string("-o", name() + ".png"));
        try (Pipeline pipeline = Pipeline.load(model, LoadOptions.defaults())) {
            Result result = pipeline.generate(request, progress -> bar(progress, err), new Cancellation());
            err.println();
            for (int i = 0; i < result.images().size(); i++) {
                Path file = numbered(output, i, result.images().size());
                result.savePng(i, file);
                out.println(file + "  (seed " + result.seeds()[i] + ")");
            }
            if (flags.has("--latents-out")) {
                writeLatents(Path.of(flags.string("--latents-out", null)), result);
            }
            return 0;
        } catch (IllegalArgumentException e) { // CheckpointException too: messages name file and tensor
            err.println("sd " + name() + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("sd " + name() + ": " + describe(e));
            return 1;
        } catch (UncheckedIOException e) {
            err.println("sd " + name() + ": " + describe(e.getCause()));
            return 1;
        } catch (OutOfMemoryError e) {
            err.println("sd " + name() + ": the Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MB) is too small for this model at this size; give it more, e.g. SD_JAVA_OPTS=-Xmx12g ./sd " + name() + " ...");
            return 1;
        }
    }

    private GenerationRequest request(Flags flags) throws IOException {
        String prompt = flags.string("--prompt", null);
        if (prompt == null) {
            throw new IllegalArgumentException("--prompt is required");
        }
        GenerationRequest.Builder b;
        if (img2img) {
            if (!flags.has("--init-image")) {
                throw new IllegalArgumentException("--init-image is required for img2img");
            }
            b = GenerationRequest.img2img(readImage(Path.of(flags.string("--init-image", null))), prompt)
                    .strength(flags.decimal("--strength", GenerationRequest.DEFAULT_STRENGTH));
        } else {
            if (flags.has("--strength") || flags.has("--init-image")) {
                throw new IllegalArgumentException("--strength and --init-image belong to img2img");
            }
            b = GenerationRequest.txt2img(prompt);
        }
        b.negativePrompt(flags.string("--negative", ""))
                .steps(flags.integer("--steps", GenerationRequest.DEFAULT_STEPS))
                .guidanceScale(flags.decimal("--cfg", GenerationRequest.DEFAULT_GUIDANCE))
                .schedule(ScheduleKind.of(flags.string("--schedule", "default")))
                .seed(flags.longValue("--seed", GenerationRequest.RANDOM_SEED))
                .batchCount(flags.integer("--batch-count", 1))
                .clipSkip(flags.integer("--clip-skip", 1))
                .promptSyntax(syntax(flags.string("--prompt-syntax", "a1111")))
                .size(flags.integer("--width", 0), flags.integer("--height", 0))
                .vaeTiling(VaeTiling.of(flags.string("--vae-tiling", "auto")));
        if (flags.has("--sampler")) {
            b.sampler(SamplerKind.of(flags.string("--sampler", null)));
        }
        if (flags.has("--latents-in")) {
            if (img2img) {
                throw new IllegalArgumentException("--latents-in belongs to txt2img");
            }
            readLatents(Path.of(flags.string("--latents-in", null)), b, flags);
        }
        return b.build();
    }

    private static PromptSyntax syntax(String name) {
        return switch (name) {
            case "a1111" -> PromptSyntax.A1111;
            case "literal" -> PromptSyntax.LITERAL;
            default -> throw new IllegalArgumentException("--prompt-syntax: expected a1111 or literal, got \"" + name + "\"");
        };
    }

    /** The tiny random-weight model bundled with the repository: runs anywhere, draws noise. */
    private static Path defaultModel() {
        return Path.of(System.getProperty("sd.home", "."), "testdata", "golden", "models", "tiny-sd1");
    }

    private static BufferedImage readImage(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString());
        }
        BufferedImage image = ImageIO.read(file.toFile());
        if (image == null) {
            throw new IOException(file + ": not an image format Java can read (PNG, JPEG, BMP, GIF)");
        }
        return image;
    }

    /** {@code --latents-in}: tensor {@code latents [1, 4, h, w]}, diffusers' {@code latents=}; sets the size from it. */
    private static void readLatents(Path file, GenerationRequest.Builder b, Flags flags) throws IOException {
        try (SafeTensors st = SafeTensors.open(file)) {
            if (!st.contains("latents")) {
                throw new IllegalArgumentException(file + ": no tensor named \"latents\" (found " + st.names() + ")");
            }
            Tensor t = st.tensor("latents");
            long[] s = t.shape();
            if (s.length != 4 || s[0] != 1 || s[1] != 4) {
                throw new IllegalArgumentException(file + ": tensor latents is " + t + ", expected [1, 4, height/8, width/8]");
            }
            int width = flags.integer("--width", (int) s[3] * 8);
            int height = flags.integer("--height", (int) s[2] * 8);
            if (width != s[3] * 8 || height != s[2] * 8) {
                throw new IllegalArgumentException(file + ": latents " + t + " do not fit " + width + "x" + height);
            }
            b.size(width, height).initialLatents(t.toFloatArray());
        }
    }

    /** {@code --latents-out}: the final latents before the VAE, tensor {@code latents [n, 4, h, w]}. */
    private static void writeLatents(Path file, Result result) throws IOException {
        GenerationRequest r = result.request();
        List<float[]> all = result.latents();
        int n = all.getFirst().length;
        float[] joined = new float[all.size() * n];
        for (int i = 0; i < all.size(); i++) {
            System.arraycopy(all.get(i), 0, joined, i * n, n);
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.ofFloats(arena, joined, all.size(), 4, r.height() / 8, r.width() / 8);
            SafeTensors.write(file, Map.of("latents", t), Map.of());
        }
    }

    private static Path numbered(Path output, int i, int count) {
        if (count == 1) {
            return output;
        }
        String name = output.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String numbered = dot < 0 ? name + "-" + (i + 1) : name.substring(0, dot) + "-" + (i + 1) + name.substring(dot);
        return output.resolveSibling(numbered);
    }

    private static void bar(Progress p, PrintStream err) {
        int width = 30;
        int done = p.step() * width / p.steps();
        err.printf(Locale.ROOT, "\r%s[%s%s] %d/%d steps, %.1f s ", p.images() > 1 ? "image " + (p.image() + 1) + "/" + p.images() + " " : "",
                "#".repeat(done), ".".repeat(width - done), p.step(), p.steps(), p.elapsed().toMillis() / 1000.0);
        err.flush();
    }

    private static String describe(IOException e) {
        return e instanceof NoSuchFileException n ? "no such file: " + n.getFile() : e.getMessage();
    }

    private static final String FLAG_HELP = """
              --model PATH          .safetensors file or diffusers folder (default: the bundled tiny random model)
              --prompt TEXT         what to draw; --negative TEXT what to avoid
              --steps N             sampling steps (20); --cfg X guidance scale (7.5)
              --sampler NAME        euler, euler_a, heun, dpmpp_2m, dpmpp_2m_sde, ddim, pndm, lms, lcm (default: the model's)
              --schedule NAME       default, karras, exponential
              --seed N              seed (default: random, printed); image i of a batch uses seed + i
              --width/--height PX   multiples of 8 (default: the model's native size, or the init image's)
              --batch-count N       images one after the other; --clip-skip N (1 = last layer)
              --vae-tiling M        auto (tiles above 768x768: flat memory), on or off
              --prompt-syntax S     a1111 (weights, BREAK, long prompts) or literal (as diffusers)
              --init-image F        img2img start image; --strength X in (0, 1] (0.75)
              --latents-in F        txt2img initial noise (tensor latents), as diffusers' latents=
              --latents-out F       write the final latents (tensor latents)
              -o FILE               output PNG (numbered for batches)""";
}
