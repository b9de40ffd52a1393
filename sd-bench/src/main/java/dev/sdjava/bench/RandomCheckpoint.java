package dev.sdjava.bench;

import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;

/**
 * A single-file, original-layout F16 checkpoint of the exact SD 1.5 shape with random weights (~2.1 GB),
 * written once into the cache folder and reused. Values keep activations finite: conv and linear weights
 * N(0, 1/fan_in), biases N(0, 0.02²), norm scales 1 + N(0, 0.1²), embeddings N(0, 0.02²). Each tensor's
 * values depend only on its name, so the file is the same on every machine.
 */
public final class RandomCheckpoint {
    /** Bump when the values or the layout change, so stale cached files are rewritten. */
    static final String GENERATOR = "sd-java bench RandomCheckpoint 1";
    private static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RandomCheckpoint() {
    }

    /** The cached SD 1.5 file, written first if absent or made by another generator version. */
    public static Path sd15(Path cacheDir, PrintStream log) throws IOException {
        Path file = cacheDir.resolve("sd15-random-f16.safetensors");
        if (Files.isRegularFile(file)) {
            try (SafeTensors st = SafeTensors.open(file)) {
                if (GENERATOR.equals(st.metadata().get("generator"))) {
                    return file;
                }
            }
        }
        Files.createDirectories(cacheDir);
        log.println("writing a random-weight SD 1.5 checkpoint to " + file + " (once; about 2.1 GB) ...");
        long start = System.nanoTime();
        write(file, SdArchitecture.SD15);
        log.printf("  done in %.0f s%n", (System.nanoTime() - start) * 1e-9);
        return file;
    }

    /** Writes a random-weight F16 checkpoint of architecture {@code a} to {@code file}. */
    public static void write(Path file, SdArchitecture a) throws IOException {
        SequencedMap<String, long[]> layout = CheckpointLayout.of(a);
        try (Arena arena = Arena.ofShared()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            layout.forEach((name, shape) -> tensors.put(name, Tensor.allocate(arena, DType.F16, shape)));
            // Tensors are independent: fill them on all cores.
            tensors.entrySet().parallelStream().forEach(e -> fill(e.getKey(), e.getValue()));
            SafeTensors.write(file, tensors, Map.of("generator", GENERATOR, "architecture", a.toString(),
                    "note", "random weights for benchmarks; not a usable model"));
        }
    }

    /** Fills {@code t} with the values its name calls for, seeded by the name alone. */
    static void fill(String name, Tensor t) {
        SplittableRandom rnd = new SplittableRandom(name.hashCode() * 0x9E3779B97F4A7C15L);
        long[] shape = t.shape();
        double mean = 0, sd;
        if (name.contains("embedding")) {
            sd = 0.02;
        } else if (shape.length >= 2) {
            sd = Math.sqrt(1.0 / (t.numel() / shape[0])); // fan_in = in · kh · kw
        } else if (name.endsWith(".weight")) {
            mean = 1; // a norm's scale
            sd = 0.1;
        } else {
            sd = 0.02;
        }
        MemorySegment data = t.data();
        short[] chunk = new short[1 << 16];
        for (long at = 0, n = t.numel(); at < n; at += chunk.length) {
            int len = (int) Math.min(chunk.length, n - at);
            for (int i = 0; i < len; i++) {
                chunk[i] = Float.floatToFloat16((float) (mean + sd * rnd.nextGaussian()));
            }
            MemorySegment.copy(chunk, 0, data, F16_LE, at * 2, len);
        }
    }
}
