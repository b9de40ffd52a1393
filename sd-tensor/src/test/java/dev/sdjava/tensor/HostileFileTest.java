package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of broken file named in the format's threat list ends in one typed, explanatory exception. */
class HostileFileTest {
    @TempDir
    Path dir;

    /** A file with this length field, header text and number of data bytes. */
    static byte[] file(long headerLength, byte[] header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(headerLength).put(header).array();
    }

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h.length, h, dataBytes);
    }

    /** Opens {@code bytes} as a file and returns the message of the exception, checking it names the file and tensor. */
    String rejects(byte[] bytes, String tensor, String expectedPhrase) throws IOException {
        Path f = dir.resolve("broken.safetensors");
        Files.write(f, bytes);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.open(f).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(f.toString()), m);
        assertEquals(f, e.file());
        if (tensor != null) {
            assertTrue(m.contains("\"" + tensor + "\""), m);
        }
        assertTrue(m.contains(expectedPhrase), m);
        return m;
    }

    static String one(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void theValidBaseOpens() throws IOException {
        Path f = dir.resolve("ok.safetensors");
        Files.write(f, file("{" + one("a", "F32", "[2]", "[0,8]") + "," + one("b", "U8", "[3]", "[8,11]") + "}   ", 11));
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(3, st.tensor("b").numel());
        }
    }

    @Test
    void shortFile() throws IOException {
        rejects(new byte[5], null, "too short");
        rejects(new byte[0], null, "too short");
    }

    @Test
    void headerLengthPastTheEndOrAbsurd() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        rejects(file(3, h, 0), null, "runs past the end");
        rejects(file(200_000_000L, h, 0), null, "absurd");
        rejects(file(-1L, h, 0), null, "18446744073709551615");
        rejects(file(Long.MAX_VALUE, h, 0), null, "absurd");
    }

    @Test
    void headerNotUtf8OrNotJson() throws IOException {
        byte[] latin1 = "{\"caf\u00e9\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        rejects(file(latin1.length, latin1, 0), null, "not valid UTF-8");
        rejects(file("hello", 0), null, "not valid JSON");
        rejects(file("[]", 0), null, "must be a JSON object");
        rejects(file("{" + one("a", "F32", "[1]", "[0,4]") + "} x", 4), null, "trailing");
        rejects(file("", 0), null, "not valid JSON");
    }

    @Test
    void duplicateName() throws IOException {
        rejects(file("{" + one("a", "F32", "[1]", "[0,4]") + "," + one("a", "F32", "[1]", "[4,8]") + "}", 8),
                null, "duplicate key \"a\"");
    }

    @Test
    void unknownDtypeOrMissingFields() throws IOException {
        rejects(file("{" + one("w", "F7", "[1]", "[0,1]") + "}", 1), "w", "unknown dtype \"F7\"");
        rejects(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "w", "dtype");
        rejects(file("{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1), "w", "\"shape\"");
        rejects(file("{\"w\":[1]}", 1), "w", "expected an object");
        rejects(file("{\"__metadata__\":{\"k\":1}}", 0), null, "must be a string");
    }

    @Test
    void badShapes() throws IOException {
        rejects(file("{" + one("w", "F32", "[-1,2]", "[0,8]") + "}", 8), "w", "non-negative integers");
        rejects(file("{" + one("w", "F32", "[2.5]", "[0,8]") + "}", 8), "w", "non-negative integers");
        rejects(file("{" + one("w", "F32", "[4611686018427387904,4]", "[0,8]") + "}", 8), "w", "more bytes than a long");
        rejects(file("{" + one("w", "F32", "[99999999999999999999]", "[0,8]") + "}", 8), "w", "non-negative integers");
    }

    @Test
    void hugeValuesAreCutShortInMessages() throws IOException {
        String longShape = "[" + "1,".repeat(100_000) + "-1]";
        String m = rejects(file("{" + one("w", "F32", longShape, "[0,4]") + "}", 4), "w", "...");
        assertTrue(m.length() < 500, m);
    }

    @Test
    void badOffsets() throws IOException {
        rejects(file("{" + one("w", "U8", "[4]", "[8,4]") + "}", 8), "w", "reversed");
        rejects(file("{" + one("w", "U8", "[2]", "[0,2,4]") + "}", 2), "w", "array of 2");
        rejects(file("{" + one("w", "U8", "[8]", "[0,8]") + "," + one("v", "U8", "[8]", "[4,12]") + "}", 12),
                "v", "overlap");
        rejects(file("{" + one("w", "U8", "[8]", "[0,8]") + "," + one("v", "U8", "[8]", "[12,20]") + "}", 20),
                "v", "gap");
        rejects(file("{" + one("w", "U8", "[8]", "[4,12]") + "}", 12), "w", "gap");
        rejects(file("{" + one("w", "U8", "[8]", "[0,8]") + "}", 4), "w", "outside the data area of 4 bytes");
        rejects(file("{" + one("w", "U8", "[8]", "[0,8]") + "}", 10), null, "data area holds 10 bytes");
        rejects(file("{" + one("w", "U8", "[8]", "[0,8]") + "," + one("v", "U8", "[0]", "[9223372036854775807,"
                + "9223372036854775807]") + "}", 8), "v", "outside the data area");
    }

    @Test
    void byteSizeDisagreesWithShape() throws IOException {
        String m = rejects(file("{" + one("w", "F32", "[3]", "[0,8]") + "}", 8), "w", "needs 12");
        assertTrue(m.contains("span 8 bytes"), m);
    }
}
