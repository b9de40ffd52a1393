package dev.sdjava.bench;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.ModelConfig;
import dev.sdjava.model.diffusion.UNet;
import dev.sdjava.model.diffusion.VaeDecoder;
import dev.sdjava.model.diffusion.VaeEncoder;
import dev.sdjava.model.text.ClipTextEncoder;
import dev.sdjava.sampling.GenerationRequest;
import dev.sdjava.sampling.Pipeline;
import dev.sdjava.sampling.SamplerKind;
import dev.sdjava.sampling.ScheduleKind;
import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ./sd bench e2e [--size 512|256|768] [--runs N] [--warmups N] [--json FILE] [--no-txt2img] [--vae-tiled]}: SD 1.5 end to end on a random-weight
 * checkpoint of the real shape ({@link RandomCheckpoint}): load, text encoding, one U-Net step with and without
 * guidance, VAE decode and encode, each the median of {@code runs} after {@code warmups} runs (default 1; 0 for a
 * quick look at 768, where one guided step takes minutes on 2 cores); then the 20-step
 * txt2img through {@link Pipeline}, once ({@code --no-txt2img} skips it: at 768 it takes minutes). {@code --vae-tiled}
 * measures the VAE decoder alone instead, for its memory: a tiled decode of twice the side (1024x1024 at 512, in
 * diffusers' tiles: 512 px overlapping by 128) in a fresh process, once, with the peak RSS after it, then the whole
 * decode at the bench's size; each with the activations the decoder holds (a whole decode's grow with the area, a
 * tiled one's with the tile). Each with achieved GFLOP/s (FLOPs counted from the architecture) and
 * its fraction of the measured FMA peak; also the peak RSS (of the whole run, and the txt2img's own) and a per-kind
 * breakdown of one guided step. Inputs are random (latents N(0, 1), a fixed prompt's token ids); the outputs are
 * checked to be finite, so a broken kernel cannot pass for a fast one.
 */
final class E2eBench {
    private static final SdArchitecture ARCH = SdArchitecture.SD15;

    private final int size;
    private final int runs;
    private final int warmups;
    private final boolean txt2img;
    private final boolean vaeTiled;
    private final PrintStream out;
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private FmaPeak.Result peak;
    /** The peak RSS of the networks' part, when the peak was reset after it for the txt2img's own. */
    private double networksPeak;

    private E2eBench(int size, int runs, int warmups, boolean txt2img, boolean vaeTiled, PrintStream out) {
        this.size = size;
        this.runs = runs;
        this.warmups = warmups;
        this.txt2img = txt2img;
        this.vaeTiled = vaeTiled;
        this.out = out;
    }

    static int run(List<String> args) throws IOException {
        int size = 512, runs = 3, warmups = 1;
        boolean txt2img = true, vaeTiled = false;
        Path json = null, checkpoint = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--size" -> size = intOption(args, ++i, a);
                case "--runs" -> runs = intOption(args, ++i, a);
                case "--warmups" -> warmups = intOption(args, ++i, a);
                case "--json" -> json = Path.of(option(args, ++i, a));
                case "--checkpoint" -> checkpoint = Path.of(option(args, ++i, a));
                case "--no-txt2img" -> txt2img = false;
                case "--vae-tiled" -> vaeTiled = true;
                default -> throw new IllegalArgumentException("unknown option '" + a + "' for 'bench e2e'; expected"
                        + " --size 256|512|768, --runs N, --warmups N, --json FILE, --checkpoint FILE, --no-txt2img, --vae-tiled");
            }
        }
        if (size % 64 != 0 || size < 64) {
            throw new IllegalArgumentException("--size must be a multiple of 64 (the U-Net halves 64x64 latents three"
                    + " times), was " + size);
        }
        if (warmups < 0) {
            throw new IllegalArgumentException("--warmups must be 0 or more, was " + warmups);
        }
        if (runs < 1) {
            throw new IllegalArgumentException("--runs must be at least 1, was " + runs);
        }
        E2eBench bench = new E2eBench(size, runs, warmups, txt2img, vaeTiled, System.out);
        Path file = checkpoint != null ? checkpoint : RandomCheckpoint.sd15(cacheDir(), System.out);
        bench.measure(file);
        if (json != null) {
            Files.writeString(json, Json.writeIndented(bench.report));
            System.out.println("wrote " + json);
        }
        return 0;
    }

    private void measure(Path file) {
        int threads = BenchMain.kernelThreads();
        peak = FmaPeak.measure(threads, 3);
        Kernels base = Kernels.get();
        ProfilingKernels profiling = new ProfilingKernels(base);
        report.put("date", Instant.now().toString());
        report.put("provider", base.name());
        report.put("threads", threads);
        report.put("size", size);
        report.put("warmups", warmups);
        report.put("checkpoint", file.toString());
        report.put("peak_gflops", peak.peak());
        report.put("peak_gflops_1_thread", peak.gflops1());
        out.printf("SD 1.5 end to end at %dx%d, %s kernels, %d threads; %s%n", size, size, base.name(), threads,
                Machine.describe());
        out.printf("FP32 FMA peak: %.1f GFLOP/s (%d threads), %.1f GFLOP/s (1 thread)%n", peak.peak(), threads,
                peak.gflops1());

        if (!Machine.resetPeakRss()) {
            notes.add("peak_rss_mb: could not reset the peak RSS; it may include writing the checkpoint");
        }
        if (vaeTiled) {
            measureVaeMemory(file, profiling);
        } else {
            measureNetworks(file, profiling);
            System.gc(); // the networks above are unreachable now that their frame is gone: free them before the pipeline loads its own
            if (txt2img) {
                // The measure is a txt2img as a user runs it: its own peak, apart from the networks' above.
                double networks = Machine.peakRssMb();
                report.put("networks_peak_rss_mb", networks);
                out.printf("%-32s %9.0f MiB (VmHWM)%n", "peak RSS, networks alone", networks);
                Machine.resetPeakRss();
                txt2img(file);
                double own = Machine.peakRssMb();
                report.put("txt2img_peak_rss_mb", own);
                out.printf("%-32s %9.0f MiB (VmHWM since the networks were freed)%n", "peak RSS, txt2img", own);
                networksPeak = networks;
            } else {
                missing("txt2img_20_steps", "skipped (--no-txt2img)");
            }
        }

        double rss = Math.max(Machine.peakRssMb(), networksPeak); // the whole run's, across the reset above
        report.put("peak_rss_mb", rss);
        out.printf("%-32s %9.0f MiB (VmHWM)%n", "peak RSS", rss);
        report.put("load_average_at_end", Machine.loadAverage());
        report.put("notes", notes);
        notes.forEach(n -> out.println("note: " + n));
    }

    /** Load, text encode, U-Net steps, VAE decode and encode, each network used directly. */
    private void measureNetworks(Path file, ProfilingKernels profiling) {
        long start = System.nanoTime();
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            ModelConfig config = checkpoint.config();
            // The U-Net and VAE take their kernels as a parameter: they get the profiling proxy. The text encoder
            // picks Kernels.get() itself and is not broken down.
            Kernels k = profiling.kernels();
            ClipTextEncoder text = new ClipTextEncoder(checkpoint.textEncoder(), config.textEncoder());
            UNet unet = UNet.load(checkpoint.unet(), config.unet(), config.unetHeads(), k);
            VaeDecoder decoder = VaeDecoder.load(checkpoint.vae(), config.vae(), k);
            VaeEncoder encoder = VaeEncoder.load(checkpoint.vae(), config.vae(), k);
            double loadSeconds = (System.nanoTime() - start) * 1e-9;
            put("load", loadSeconds, Double.NaN);
            out.printf("%-32s %9.2f s  (open the file, prepare every network's weights; once)%n", "load", loadSeconds);

            int[] ids = promptIds();
            int tokens = ARCH.tokens(), width = ARCH.textHidden();
            float[] context = new float[ids.length * width];
            Timing t = Timing.of(warmups, runs, () -> text.encode(ids, 2, 0, context));
            report("text_encode", "text encode (batch 2)", t, ArchitectureFlops.textEncode(ARCH, 2).total());

            int latent = size / 8, channels = ARCH.latentChannels();
            float[] latents = random(2 * channels * latent * latent, 1f);
            float[] noise = new float[latents.length];
            float[] timestep = {500f};
            t = Timing.of(warmups, runs, () -> unet.forward(latents, 2, latent, latent, timestep, context, tokens, noise));
            report("unet_step_guided", "U-Net step, guided (batch 2)", t, ArchitectureFlops.unet(ARCH, 2, latent, latent).total());
            checkFinite("U-Net output", noise);

            profiling.reset();
            unet.forward(latents, 2, latent, latent, timestep, context, tokens, noise);
            report.put("unet_step_breakdown", profiling.breakdown());
            printBreakdown(profiling.breakdown(), ArchitectureFlops.unet(ARCH, 2, latent, latent));

            float[] condContext = Arrays.copyOfRange(context, tokens * width, 2 * tokens * width);
            t = Timing.of(warmups, runs, () -> unet.forward(latents, 1, latent, latent, timestep, condContext, tokens, noise));
            report("unet_step", "U-Net step, unguided (batch 1)", t, ArchitectureFlops.unet(ARCH, 1, latent, latent).total());

            unet.releaseBuffers(); // one network's activations at a time, as the pipeline runs them

            float[] image = new float[3 * size * size];
            t = Timing.of(warmups, runs, () -> decoder.decode(latents, 1, latent, latent, image));
            report("vae_decode", "VAE decode " + latent + "x" + latent + " -> " + size + "x" + size, t,
                    ArchitectureFlops.vaeDecode(ARCH, latent, latent).total());
            checkFinite("VAE decoder output", image);
            workspace("vae_decode", "VAE decode, whole", decoder.workspaceBytes());

            decoder.releaseBuffers();

            float[] mean = new float[channels * latent * latent];
            float[] logvar = new float[mean.length];
            t = Timing.of(warmups, runs, () -> encoder.encode(image, 1, size, size, mean, logvar));
            report("vae_encode", "VAE encode " + size + "x" + size, t, ArchitectureFlops.vaeEncode(ARCH, size, size).total());

        }
    }

    /**
     * {@code --vae-tiled}: the VAE decoder alone, at twice the bench's side (1024x1024 at 512). First the decode in
     * tiles of the bench's side overlapping by a quarter (at 512: diffusers' tiles, 512 px overlapping by 128), then
     * the whole decode, each timed once, each with the process's peak RSS after it (nothing else has run, so the
     * first peak is the tiled decode's) and the activations the decoder then holds. The tiled decode's GFLOP/s count
     * the work the kernels were given, overlaps included, to compare per FLOP with the whole one. The other parts
     * are reported missing.
     */
    private void measureVaeMemory(Path file, ProfilingKernels profiling) {
        for (String key : new String[] {"load", "text_encode", "unet_step_guided", "unet_step", "vae_decode", "vae_encode",
                "txt2img_20_steps"}) {
            missing(key, "not measured: --vae-tiled measures the VAE decoder alone");
        }
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            VaeDecoder decoder = VaeDecoder.load(checkpoint.vae(), checkpoint.config().vae(), profiling.kernels());
            int side = 2 * size, latent = side / 8, tile = size, overlap = size / 4;
            float[] latents = random(ARCH.latentChannels() * latent * latent, 1f);
            float[] image = new float[3 * side * side];
            double wholeFlops = ArchitectureFlops.vaeDecode(ARCH, latent, latent).total();
            report.put("vae_decode_tiled_image_px", side);
            report.put("vae_decode_tiled_tile_px", tile);
            report.put("vae_decode_tiled_overlap_px", overlap);

            profiling.reset();
            Timing t = Timing.of(0, 1, () -> decoder.decodeTiled(latents, 1, latent, latent, image, tile, overlap));
            double flops = profiling.breakdown().values().stream().mapToDouble(m -> (double) m.get("flops")).sum();
            report("vae_decode_tiled", "VAE decode " + side + "x" + side + ", tiles " + tile + "/" + overlap + " (once)",
                    t, flops);
            report.put("vae_decode_tiled_whole_image_tflop", wholeFlops * 1e-12);
            checkFinite("tiled VAE decoder output", image);
            afterDecode("vae_decode_tiled", "tiled", decoder);

            decoder.releaseBuffers(); // the whole decode's own buffers, not grown from the tiled one's
            t = Timing.of(0, 1, () -> decoder.decode(latents, 1, latent, latent, image));
            report("vae_decode_whole_" + side, "VAE decode " + side + "x" + side + ", whole (once)", t, wholeFlops);
            checkFinite("VAE decoder output", image);
            afterDecode("vae_decode_whole_" + side, "whole", decoder);
        }
    }

    /** The activations the decoder holds and the process's peak RSS so far, as {@code KEY_workspace_mb} and {@code KEY_peak_rss_mb}. */
    private void afterDecode(String key, String label, VaeDecoder decoder) {
        workspace(key, "  activations held, " + label, decoder.workspaceBytes());
        double rss = Machine.peakRssMb();
        report.put(key + "_peak_rss_mb", rss);
        out.printf("%-32s %9.0f MiB (VmHWM)%n", "  peak RSS so far", rss);
    }

    /** Records the activations a network holds after a part, {@code KEY_workspace_mb}. */
    private void workspace(String key, String label, long bytes) {
        double mb = bytes / (1024.0 * 1024);
        report.put(key + "_workspace_mb", mb);
        out.printf("%-32s %9.0f MiB (activations the decoder holds)%n", label, mb);
    }

    /** Records a timed part: {@code KEY_s} (median), its GFLOP/s and fraction of the FMA peak. */
    private void report(String key, String label, Timing t, double flops) {
        double s = t.median();
        put(key, s, flops);
        out.printf("%-32s %9.3f s  %8.1f GFLOP/s  %.3f of peak   (median of %d; runs %s)%n", label, s,
                flops / s * 1e-9, flops / s * 1e-9 / peak.peak(), t.seconds().length, Arrays.toString(rounded(t.seconds())));
    }

    private void put(String key, double seconds, double flops) {
        report.put(key + "_s", seconds);
        if (!Double.isNaN(flops)) {
            report.put(key + "_tflop", flops * 1e-12);
            report.put(key + "_gflops", flops / seconds * 1e-9);
            report.put(key + "_fraction_of_peak", flops / seconds * 1e-9 / peak.peak());
        }
    }

    private void missing(String key, String why) {
        report.put(key + "_s", null);
        report.put(key + "_fraction_of_peak", null);
        notes.add(key + ": " + why);
    }

    /**
     * The whole txt2img through the public API, {@link Pipeline}, as a user runs it: its load apart, then one
     * 20-step generation (DPM++ 2M Karras, guidance 7.5) timed once, everything being warm by then.
     */
    private void txt2img(Path file) {
        int steps = 20;
        long start = System.nanoTime();
        try (Pipeline pipeline = Pipeline.load(file)) {
            double loadSeconds = (System.nanoTime() - start) * 1e-9;
            report.put("txt2img_load_s", loadSeconds);
            out.printf("%-32s %9.2f s%n", "Pipeline.load", loadSeconds);
            GenerationRequest request = GenerationRequest.txt2img("a lighthouse at dusk, oil painting").size(size, size)
                    .steps(steps).sampler(SamplerKind.DPMPP_2M).schedule(ScheduleKind.KARRAS).seed(42).build();
            Timing t = Timing.of(0, 1, () -> pipeline.generate(request));
            int latent = size / 8;
            report("txt2img_20_steps", "txt2img, " + steps + " steps (once)", t,
                    ArchitectureFlops.textEncode(ARCH, 2).total() + steps * ArchitectureFlops.unet(ARCH, 2, latent, latent).total()
                            + ArchitectureFlops.vaeDecode(ARCH, latent, latent).total());
        }
    }

    /** Per op kind: measured seconds and share of the step, counted FLOPs and GFLOP/s (the profiler counts what the kernels were asked to do). */
    private void printBreakdown(Map<String, Map<String, Object>> measured, ArchitectureFlops.Count counted) {
        double total = measured.values().stream().mapToDouble(m -> (double) m.get("seconds")).sum();
        out.printf("  one guided step by op kind (kernel time %.2f s; architecture count %.3f TFLOP):%n", total,
                counted.total() * 1e-12);
        measured.forEach((kind, m) -> {
            double s = (double) m.get("seconds"), f = (double) m.get("flops");
            out.printf("    %-10s %7.2f s %5.1f%%  %5d calls  %8.3f TFLOP  %8s GFLOP/s%n", kind, s, 100 * s / total,
                    (long) m.get("calls"), f * 1e-12, f > 0 ? String.format("%.1f", f / s * 1e-9) : "-");
        });
    }

    private static void checkFinite(String what, float[] x) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                throw new IllegalStateException(what + " holds " + v + ": the random weights or the kernels are off");
            }
        }
    }

    private static float[] random(int n, float sd) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian() * sd;
        }
        return a;
    }

    /** An empty prompt and a short one, padded with end-of-text to 77 tokens: the guided batch. */
    private static int[] promptIds() {
        int bos = 49406, eos = 49407, n = ARCH.tokens();
        int[] ids = new int[2 * n];
        Arrays.fill(ids, eos);
        ids[0] = bos;
        ids[n] = bos;
        int[] words = {320, 2183, 536, 2201, 530, 518, 1873, 267, 6651, 1510}; // a short prompt's worth of tokens
        System.arraycopy(words, 0, ids, n + 1, words.length);
        return ids;
    }

    private static double[] rounded(double[] s) {
        return Arrays.stream(s).map(v -> Math.round(v * 1000) / 1000.0).toArray();
    }

    /** {@code .cache/} at the root of the sd-java checkout the command runs in, else in the working directory. */
    static Path cacheDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("sd")) && Files.isDirectory(p.resolve("sd-bench"))) {
                return p.resolve(".cache");
            }
        }
        return Path.of(".cache").toAbsolutePath();
    }

    private static String option(List<String> args, int i, String name) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args.get(i);
    }

    private static int intOption(List<String> args, int i, String name) {
        String v = option(args, i, name);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a whole number, was '" + v + "'");
        }
    }
}
