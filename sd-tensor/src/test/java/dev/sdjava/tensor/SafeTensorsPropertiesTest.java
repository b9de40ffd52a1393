package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/** Round trips of random checkpoints, and random corruptions of valid files. */
class SafeTensorsPropertiesTest {
    private static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("safetensors-props");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    /** One tensor to write: dtype, shape and raw little-endian bytes. */
    record Spec(DType dtype, long[] shape, byte[] bytes) {
        Tensor in(Arena arena) {
            Tensor t = Tensor.allocate(arena, dtype, shape);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, t.data(), 0, bytes.length);
            return t;
        }
    }

    /** Names and metadata cover quotes, backslashes, controls, non-ASCII and astral characters. */
    static Arbitrary<String> text() {
        Arbitrary<String> bmp = Arbitraries.strings().withCharRange('\u0000', '\ud7ff').withCharRange('\ue000', '\ufffd')
                .withChars('.', '"', '\\', '/').ofMaxLength(10);
        return Combinators.combine(bmp, Arbitraries.of("", "😀", "𝄞x")).as(String::concat);
    }

    static Arbitrary<Spec> specs() {
        Arbitrary<long[]> shapes = Arbitraries.longs().between(0, 4).array(long[].class).ofMaxSize(4);
        return Combinators.combine(Arbitraries.of(DType.class), shapes, Arbitraries.longs()).as((dtype, shape, seed) -> {
            byte[] bytes = new byte[Math.toIntExact(Tensor.elementCount(shape) * dtype.byteSize())];
            new Random(seed).nextBytes(bytes);
            return new Spec(dtype, shape, bytes);
        });
    }

    @Provide
    Arbitrary<Map<String, Spec>> checkpoints() {
        return Arbitraries.maps(text().filter(s -> !s.equals("__metadata__")), specs()).ofMaxSize(8);
    }

    @Provide
    Arbitrary<Map<String, String>> metadata() {
        return Arbitraries.maps(text(), text()).ofMaxSize(4);
    }

    static Path write(Map<String, Spec> specs, Map<String, String> metadata, String fileName) throws IOException {
        Path f = dir.resolve(fileName);
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            specs.forEach((name, spec) -> tensors.put(name, spec.in(arena)));
            SafeTensors.write(f, tensors, metadata);
        }
        return f;
    }

    @Property(tries = 200)
    void writeThenReadGivesBackTheSameCheckpoint(@ForAll("checkpoints") Map<String, Spec> specs,
            @ForAll("metadata") Map<String, String> metadata) throws IOException {
        try (SafeTensors st = SafeTensors.open(write(specs, metadata, "roundtrip.safetensors"))) {
            assertEquals(List.copyOf(specs.keySet()), List.copyOf(st.names()));
            assertEquals(metadata, st.metadata());
            for (Map.Entry<String, Spec> e : specs.entrySet()) {
                Tensor t = st.tensor(e.getKey());
                assertEquals(e.getValue().dtype(), t.dtype());
                assertArrayEquals(e.getValue().shape(), t.shape());
                assertArrayEquals(e.getValue().bytes(), t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
    }

    private static final Pattern NUMBER = Pattern.compile("\\d+");

    /**
     * Valid files to corrupt, as bytes: a fixed pool drawn once, because every written file is
     * fsynced (the writer's crash safety) and 10,000 fsyncs would take minutes.
     */
    private static List<byte[]> validFiles;

    @Provide
    Arbitrary<byte[]> validFiles() throws IOException {
        if (validFiles == null) {
            List<byte[]> pool = new ArrayList<>();
            Random rnd = new Random(42);
            for (int i = 0; i < 100; i++) {
                Map<String, Spec> specs = checkpoints().generator(1000).next(rnd).value();
                Map<String, String> metadata = metadata().generator(1000).next(rnd).value();
                pool.add(Files.readAllBytes(write(specs, metadata, "base.safetensors")));
            }
            validFiles = pool;
        }
        return Arbitraries.of(validFiles);
    }

    /**
     * Damages a valid file in one of the ways files get damaged or forged: truncation, a flipped
     * byte in the header or anywhere, an edited header length, an edited number (shape or offset)
     * in the header, a byte inserted into or removed from the header.
     */
    static byte[] corrupt(byte[] file, int kind, Random rnd) {
        int headerEnd = 8 + (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return switch (kind) {
            case 0 -> java.util.Arrays.copyOf(file, rnd.nextInt(file.length));
            case 1 -> {
                byte[] f = file.clone();
                f[8 + rnd.nextInt(headerEnd - 8)] ^= (byte) (1 + rnd.nextInt(255));
                yield f;
            }
            case 2 -> {
                byte[] f = file.clone();
                f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
                yield f;
            }
            case 3 -> {
                long[] lengths = {headerEnd - 8 + rnd.nextInt(17) - 8, rnd.nextLong(), 0, file.length, file.length - 8,
                        -1, SafeTensors.MAX_HEADER_BYTES + 1, Integer.MAX_VALUE};
                byte[] f = file.clone();
                ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lengths[rnd.nextInt(lengths.length)]);
                yield f;
            }
            case 4 -> {
                String header = new String(file, 8, headerEnd - 8, StandardCharsets.UTF_8);
                List<int[]> numbers = new ArrayList<>();
                Matcher m = NUMBER.matcher(header);
                while (m.find()) {
                    numbers.add(new int[] {m.start(), m.end()});
                }
                if (numbers.isEmpty()) {
                    yield file;
                }
                int[] at = numbers.get(rnd.nextInt(numbers.size()));
                long old = Long.parseLong(header.substring(at[0], at[1]));
                String[] replacements = {String.valueOf(old + 1), String.valueOf(Math.max(0, old - 1)), "0",
                        String.valueOf(old * 2), String.valueOf(rnd.nextLong()), "-1", "1e3", "99999999999999999999",
                        String.valueOf(Long.MAX_VALUE), String.valueOf(1L << 62), String.valueOf(rnd.nextInt(64))};
                String edited = header.substring(0, at[0]) + replacements[rnd.nextInt(replacements.length)]
                        + header.substring(at[1]);
                yield withHeader(file, headerEnd, edited.getBytes(StandardCharsets.UTF_8));
            }
            default -> {
                byte[] h = java.util.Arrays.copyOfRange(file, 8, headerEnd);
                int i = rnd.nextInt(h.length + 1);
                byte[] edited = rnd.nextBoolean() || i == h.length
                        ? concat(java.util.Arrays.copyOf(h, i), new byte[] {(byte) rnd.nextInt(256)},
                                java.util.Arrays.copyOfRange(h, i, h.length))
                        : concat(java.util.Arrays.copyOf(h, i), new byte[0], java.util.Arrays.copyOfRange(h, i + 1, h.length));
                yield withHeader(file, headerEnd, edited);
            }
        };
    }

    /**
     * Writes {@code bytes} over the file in place. Not Files.write: truncating a file to zero and
     * rewriting it makes ext4 flush it on close (auto_da_alloc), which costs milliseconds a try;
     * so does deleting a fresh file each time.
     */
    static void overwrite(Path f, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), 0);
            ch.truncate(bytes.length);
        }
    }

    /** The file with its header replaced and the length field updated to match. */
    static byte[] withHeader(byte[] file, int headerEnd, byte[] header) {
        byte[] length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array();
        return concat(length, header, java.util.Arrays.copyOfRange(file, headerEnd, file.length));
    }

    static byte[] concat(byte[] a, byte[] b, byte[] c) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length + c.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        System.arraycopy(c, 0, out, a.length + b.length, c.length);
        return out;
    }

    @Property(tries = 10_000)
    void corruptFilesOpenCleanlyOrFailWithTheTypedException(@ForAll("validFiles") byte[] valid,
            @ForAll @IntRange(min = 0, max = 5) int kind, @ForAll long seed) throws IOException {
        Path f = dir.resolve("corrupt.safetensors");
        overwrite(f, corrupt(valid, kind, new Random(seed)));
        try (SafeTensors st = SafeTensors.open(f)) {
            // A file that still opens must be fully readable.
            for (String name : st.names()) {
                st.tensor(name).toFloatArray();
            }
            Statistics.label("outcome").collect("opened");
        } catch (SafeTensorsFormatException e) {
            Statistics.label("outcome").collect("rejected");
        }
        Statistics.label("kind").collect(kind);
        // Not vacuous: many corruptions must be caught, and some damaged files (data bytes) still open.
        Statistics.label("outcome").coverage(c -> {
            c.check("rejected").percentage(p -> p > 50);
            c.check("opened").percentage(p -> p > 2);
        });
    }
}
