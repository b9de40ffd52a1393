package dev.sdjava.bench;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.text.ClipTextEncoder;
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
 * {@code ./sd bench e2e [--size 512|256|768] [--runs N] [--json FILE]}: SD 1.5 end to end on a random-weight
 * checkpoint of the real shape ({@link RandomCheckpoint}): load, text encoding, one U-Net step with and without
 * guidance, VAE decode and encode, a 20-step txt2img; each the median of {@code runs} after a warm-up run,
 * with achieved GFLOP/s (FLOPs counted from the architecture) and its fraction of the measured FMA peak,
 * the peak RSS, and a per-kind breakdown of one guided step. Parts whose code is not in the project yet are
 * reported as null, with a note saying so.
 */
final class E2eBench {
    private static final SdArchitecture ARCH = SdArchitecture.SD15;

    private final int size;
    private final int runs;
    private final PrintStream out;
    private final Map<String, Object> report = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private FmaPeak.Result peak;

    private E2eBench(int size, int runs, PrintStream out) {
        this.size = size;
        this.runs = runs;
        this.out = out;
    }

    static int run(List<String> args) throws IOException {
        int size = 512, runs = 3;
        Path json = null, checkpoint = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--size" -> size = intOption(args, ++i, a);
                case "--runs" -> runs = intOption(args, ++i, a);
                case "--json" -> json = Path.of(option(args, ++i, a));
                case "--checkpoint" -> checkpoint = Path.of(option(args, ++i, a));
                default -> throw new IllegalArgumentException("unknown option '" + a + "' for 'bench e2e'; expected"
                        + " --size 256|512|768, --runs N, --json FILE, --checkpoint FILE");
            }
        }
        if (size % 64 != 0 || size < 64) {
            throw new IllegalArgumentException("--size must be a multiple of 64 (the U-Net halves 64x64 latents three"
                    + " times), was " + size);
        }
        if (runs < 1) {
            throw new IllegalArgumentException("--runs must be at least 1, was " + runs);
        }
        E2eBench bench = new E2eBench(size, runs, System.out);
        Path file = checkpoint != null ? checkpoint : RandomCheckpoint.sd15(cacheDir(), System.out);
        bench.measure(file);
        if (json != null) {
            Files.writeString(json, Json.write(bench.report));
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
        long start = System.nanoTime();
        try (Checkpoint checkpoint = Checkpoint.open(file)) {
            ClipTextEncoder text = new ClipTextEncoder(checkpoint.textEncoder(), checkpoint.config().textEncoder());
            double loadSeconds = (System.nanoTime() - start) * 1e-9;
            put("load", loadSeconds, Double.NaN);
            out.printf("%-28s %9.2f s  (open + prepare every network present; once)%n", "load", loadSeconds);

            int[] ids = promptIds();
            float[] embeddings = new float[ids.length * ARCH.textHidden()];
            Timing t = Timing.of(1, runs, () -> text.encode(ids, 2, 0, embeddings));
            report("text_encode", "text encode (batch 2)", t, ArchitectureFlops.textEncode(ARCH, 2).total());

            missing("unet_step_guided", "the U-Net (dev.sdjava.model.diffusion.UNet) is not in the project yet");
            missing("unet_step", "the U-Net is not in the project yet");
            missing("vae_decode", "the VAE decoder is not in the project yet");
            missing("vae_encode", "the VAE encoder is not in the project yet");
            missing("txt2img_20_steps", "the txt2img pipeline is not in the project yet");
        }
        double rss = Machine.peakRssMb();
        report.put("peak_rss_mb", rss);
        out.printf("%-28s %9.0f MiB (VmHWM)%n", "peak RSS", rss);
        report.put("unet_step_breakdown", profiling.breakdown());
        report.put("load_average_at_end", Machine.loadAverage());
        report.put("notes", notes);
        notes.forEach(n -> out.println("note: " + n));
    }

    /** Records a timed part: {@code KEY_s} (median), its GFLOP/s and fraction of the FMA peak. */
    private void report(String key, String label, Timing t, double flops) {
        double s = t.median();
        put(key, s, flops);
        out.printf("%-28s %9.3f s  %8.1f GFLOP/s  %.3f of peak   (median of %d; runs %s)%n", label, s,
                flops / s * 1e-9, flops / s * 1e-9 / peak.peak(), runs, Arrays.toString(rounded(t.seconds())));
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
