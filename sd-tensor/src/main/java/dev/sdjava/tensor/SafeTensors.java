package dev.sdjava.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A .safetensors checkpoint, memory-mapped: opening reads and checks only the JSON header, and
 * each {@link #tensor} is a zero-copy view of the file. A diffusers sharded checkpoint (its
 * {@code *.safetensors.index.json}) opens as one. Closing unmaps every file; tensors obtained
 * from it must not be used afterwards.
 *
 * <p>File layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {@code {"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"k": "v"}}} (possibly padded with spaces), then the data area, to which the
 * offsets are relative. The reader trusts nothing: every malformed file ends in a
 * {@link SafeTensorsFormatException}.
 */
public final class SafeTensors implements AutoCloseable {
    /** Headers beyond this are refused (as the reference implementation does) rather than read into the heap. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final String METADATA_KEY = "__metadata__";
    private static final String INDEX_SUFFIX = ".index.json";
    /** Files larger than 2 GiB are written through ByteBuffers, which are int-indexed. */
    private static final long WRITE_CHUNK = 1L << 30;

    private final Path path;
    private final SequencedMap<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final List<Arena> arenas;
    private volatile boolean closed;

    private SafeTensors(Path path, Map<String, Tensor> tensors, Map<String, String> metadata, List<Arena> arenas) {
        this.path = path;
        this.tensors = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(tensors));
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.arenas = List.copyOf(arenas);
    }

    /**
     * Opens a .safetensors file, or a sharded checkpoint through its {@code .index.json}.
     *
     * @throws SafeTensorsFormatException if the file is not a valid checkpoint
     * @throws IOException if it cannot be read (e.g. {@link java.nio.file.NoSuchFileException})
     */
    public static SafeTensors open(Path path) throws IOException {
        Path name = path.getFileName();
        if (name != null && name.toString().endsWith(INDEX_SUFFIX)) {
            return openIndex(path);
        }
        return openFile(path);
    }

    /** The file this was opened from (the index file for a sharded checkpoint). */
    public Path path() {
        return path;
    }

    /** Tensor names in the order of the header (of the index's weight map, when sharded). */
    public SequencedSet<String> names() {
        return tensors.sequencedKeySet(); // unmodifiable, as the map is
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor called {@code name}, a view of the mapped file. */
    public Tensor tensor(String name) {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + " has no tensor \"" + name + "\" (it has " + tensors.size() + ")");
        }
        return t;
    }

    /** The {@code __metadata__} of the header (of the index file, when sharded); empty if none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Unmaps the file(s). Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arenas.forEach(Arena::close);
        }
    }

    @Override
    public String toString() {
        return "SafeTensors[" + path + ", " + tensors.size() + " tensors]";
    }

    // ---- reading one file ----

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private static SafeTensors openFile(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new SafeTensorsFormatException(path, "file is " + size
                        + " bytes, too short for the 8-byte header length a safetensors file starts with");
            }
            long headerLength = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw new SafeTensorsFormatException(path, "header length " + Long.toUnsignedString(headerLength)
                        + " is absurd (the limit is " + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
            }
            if (headerLength > size - 8) {
                throw new SafeTensorsFormatException(path, "header length " + headerLength
                        + " runs past the end of the file (" + size + " bytes, so at most " + (size - 8) + ")");
            }
            String json = decodeUtf8(path, readFully(channel, 8, (int) headerLength));
            long dataStart = 8 + headerLength;
            long dataSize = size - dataStart;
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Entry> entries = parseHeader(path, json, dataSize, metadata);
            checkLayout(path, entries, dataSize);

            Arena arena = Arena.ofShared(); // shared: kernels read weights from many threads
            try {
                MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, dataStart, dataSize, arena);
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (Entry e : entries) {
                    tensors.put(e.name, new Tensor(e.dtype, e.shape, data.asSlice(e.begin, e.end - e.begin)));
                }
                return new SafeTensors(path, tensors, metadata, List.of(arena));
            } catch (Throwable t) {
                arena.close(); // a failed open leaves no mapping behind
                throw t;
            }
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file while reading " + length + " bytes at " + position);
            }
        }
        return buffer.flip();
    }

    private static String decodeUtf8(Path path, ByteBuffer bytes) throws SafeTensorsFormatException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsFormatException(path, "header is not valid UTF-8 (" + e.getMessage() + ")");
        }
    }

    private static Object parseJson(Path path, String json, String what) throws SafeTensorsFormatException {
        try {
            return Json.parse(json);
        } catch (Json.ParseException e) {
            throw new SafeTensorsFormatException(path, what + " is not valid JSON: " + e.reason() + " at character " + e.offset());
        }
    }

    /** Checks each entry on its own; {@link #checkLayout} then checks them against each other. */
    private static List<Entry> parseHeader(Path path, String json, long dataSize, Map<String, String> metadata)
            throws SafeTensorsFormatException {
        if (!(parseJson(path, json, "header") instanceof Map<?, ?> header)) {
            throw new SafeTensorsFormatException(path, "header must be a JSON object");
        }
        List<Entry> entries = new ArrayList<>(header.size());
        for (Map.Entry<?, ?> kv : header.entrySet()) {
            String name = (String) kv.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(kv.getValue() instanceof Map<?, ?> meta)) {
                    throw new SafeTensorsFormatException(path, METADATA_KEY + " must be an object of strings");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String value)) {
                        throw new SafeTensorsFormatException(path, METADATA_KEY + " value of \"" + m.getKey()
                                + "\" must be a string, got " + excerpt(m.getValue()));
                    }
                    metadata.put((String) m.getKey(), value);
                }
                continue;
            }
            entries.add(parseEntry(path, name, kv.getValue(), dataSize));
        }
        return entries;
    }

    private static Entry parseEntry(Path path, String name, Object value, long dataSize)
            throws SafeTensorsFormatException {
        if (!(value instanceof Map<?, ?> info)) {
            throw new SafeTensorsFormatException(path, name, "expected an object with dtype, shape and data_offsets");
        }
        if (!(info.get("dtype") instanceof String dtypeName)) {
            throw new SafeTensorsFormatException(path, name, "expected a string \"dtype\"");
        }
        DType dtype = DType.fromSafetensorsName(dtypeName);
        if (dtype == null) {
            throw new SafeTensorsFormatException(path, name, "unknown dtype \"" + dtypeName
                    + "\", expected one of " + Arrays.toString(DType.values()));
        }
        long[] shape = nonNegativeLongs(path, name, info.get("shape"), "shape", -1);
        long[] offsets = nonNegativeLongs(path, name, info.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.elementCount(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafeTensorsFormatException(path, name, "shape " + excerpt(shape) + " of " + dtype
                    + " has more bytes than a long can count");
        }
        if (begin > end) {
            throw new SafeTensorsFormatException(path, name, "data_offsets [" + begin + ", " + end
                    + "] are reversed (begin must not exceed end)");
        }
        if (end > dataSize) {
            throw new SafeTensorsFormatException(path, name, "data_offsets [" + begin + ", " + end
                    + "] lie outside the data area of " + dataSize + " bytes");
        }
        if (end - begin != bytes) {
            throw new SafeTensorsFormatException(path, name, "data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes, but shape " + excerpt(shape) + " of " + dtype + " needs " + bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers that fit a long; {@code length} -1 means any length. */
    private static long[] nonNegativeLongs(Path path, String name, Object value, String field, int length)
            throws SafeTensorsFormatException {
        String expected = "expected \"" + field + "\" to be an array of "
                + (length < 0 ? "" : length + " ") + "non-negative integers";
        if (!(value instanceof List<?> list) || (length >= 0 && list.size() != length)) {
            throw new SafeTensorsFormatException(path, name, expected + ", got " + (value == null ? "nothing" : excerpt(value)));
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) {
                throw new SafeTensorsFormatException(path, name, expected + ", got " + excerpt(value));
            }
            out[i] = v;
        }
        return out;
    }

    /** The tensors must tile the data area exactly: no gaps, no overlaps, nothing after the last. */
    private static void checkLayout(Path path, List<Entry> entries, long dataSize) throws SafeTensorsFormatException {
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (Entry e : byOffset) {
            if (e.begin != expected) {
                String after = previous == null ? "the data area starts at 0" : "the previous tensor \"" + previous.name
                        + "\" ends at " + expected;
                throw new SafeTensorsFormatException(path, e.name, "data begins at " + e.begin + " but " + after
                        + (e.begin < expected ? " (overlap)" : " (gap)"));
            }
            expected = e.end;
            previous = e;
        }
        if (expected != dataSize) {
            throw new SafeTensorsFormatException(path, "the tensors' data ends at " + expected
                    + " but the data area holds " + dataSize + " bytes");
        }
    }

    /** A JSON value for an error message, cut short: a hostile header may hold megabytes in one value. */
    private static String excerpt(Object jsonValue) {
        return cut(Json.write(jsonValue));
    }

    private static String excerpt(long[] shape) {
        return cut(Arrays.toString(shape));
    }

    private static String cut(String s) {
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }

    // ---- sharded checkpoints ----

    /** {@code {"metadata": {...}, "weight_map": {"tensor name": "shard file name", ...}}}. */
    private static SafeTensors openIndex(Path index) throws IOException {
        long size = Files.size(index);
        if (size > MAX_HEADER_BYTES) {
            throw new SafeTensorsFormatException(index, "index of " + size + " bytes exceeds the limit of "
                    + MAX_HEADER_BYTES);
        }
        String json = decodeUtf8(index, ByteBuffer.wrap(Files.readAllBytes(index)));
        if (!(parseJson(index, json, "index") instanceof Map<?, ?> root)
                || !(root.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new SafeTensorsFormatException(index, "expected an object with a \"weight_map\" object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        if (root.get("metadata") instanceof Map<?, ?> meta) {
            meta.forEach((k, v) -> metadata.put((String) k, v instanceof String s ? s : Json.write(v)));
        }
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<String, SafeTensors> shards = new LinkedHashMap<>();
        try {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<?, ?> kv : weightMap.entrySet()) {
                String name = (String) kv.getKey();
                if (!(kv.getValue() instanceof String file) || !file.endsWith(".safetensors")) {
                    throw new SafeTensorsFormatException(index, name, "weight_map must name a .safetensors file, got "
                            + excerpt(kv.getValue()));
                }
                Path shardPath = dir.resolve(file).normalize();
                if (!shardPath.startsWith(dir)) {
                    throw new SafeTensorsFormatException(index, name, "shard " + file + " lies outside " + dir);
                }
                SafeTensors shard = shards.get(file);
                if (shard == null) {
                    shard = openFile(shardPath);
                    shards.put(file, shard);
                }
                if (!shard.contains(name)) {
                    throw new SafeTensorsFormatException(index, name, "weight_map places it in " + file
                            + ", which has no such tensor");
                }
                tensors.put(name, shard.tensor(name));
            }
            List<Arena> arenas = new ArrayList<>();
            shards.values().forEach(s -> arenas.addAll(s.arenas));
            return new SafeTensors(index, tensors, metadata, arenas);
        } catch (Throwable t) {
            shards.values().forEach(SafeTensors::close);
            throw t;
        }
    }

    // ---- writing ----

    /**
     * Writes {@code tensors} (header in the map's order) and {@code metadata} (may be empty) as a
     * .safetensors file. The bytes go to a temporary file in the same folder that is then renamed
     * over {@code path}, so a crash never leaves a half-written checkpoint, and a file being
     * overwritten stays intact for anyone who has it mapped. The header is padded with spaces so
     * that the data starts 8-byte aligned, and the data is laid out widest dtype first, so every
     * tensor is aligned to its element size.
     */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<Map.Entry<String, Tensor>> byAlignment = new ArrayList<>(tensors.entrySet());
        byAlignment.sort(Comparator.comparingInt(e -> -e.getValue().dtype().byteSize())); // stable: keeps map order within a size
        Map<String, long[]> offsets = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : byAlignment) {
            long bytes = e.getValue().byteSize();
            offsets.put(e.getKey(), new long[] {offset, offset + bytes});
            offset += bytes;
        }

        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            Json.quote(json, METADATA_KEY).append(":{");
            String sep = "";
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) {
                    throw new IllegalArgumentException("metadata for " + path + " holds a null key or value");
                }
                Json.quote(json.append(sep), m.getKey()).append(':');
                Json.quote(json, m.getValue());
                sep = ",";
            }
            json.append('}');
        }
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("cannot write a tensor named " + name + " to " + path);
            }
            Tensor t = e.getValue();
            long[] at = offsets.get(name);
            Json.quote(json.append(json.length() > 1 ? "," : ""), name)
                    .append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(at[0]).append(',').append(at[1]).append("]}");
        }
        json.append('}');
        byte[] headerBytes = encodeUtf8(path, json);
        int padded = (headerBytes.length + 7) & ~7;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("the header of " + path + " would be " + padded
                    + " bytes, more than readers accept (" + MAX_HEADER_BYTES + ")");
        }
        ByteBuffer header = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(padded).put(headerBytes);
        while (header.hasRemaining()) {
            header.put((byte) ' ');
        }

        Path target = path.toAbsolutePath();
        // Not Files.createTempFile: its files are owner-only (0600), and the rename would pass that on.
        Path temp = target.resolveSibling("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(out, header.flip());
                for (Map.Entry<String, Tensor> e : byAlignment) {
                    MemorySegment data = e.getValue().data();
                    for (long o = 0; o < data.byteSize(); o += WRITE_CHUNK) {
                        writeFully(out, data.asSlice(o, Math.min(WRITE_CHUNK, data.byteSize() - o)).asByteBuffer());
                    }
                }
                out.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp); // no-op after a successful move
        }
    }

    private static byte[] encodeUtf8(Path path, CharSequence text) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a tensor name or metadata entry for " + path
                    + " is not valid Unicode (lone surrogate)", e);
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
