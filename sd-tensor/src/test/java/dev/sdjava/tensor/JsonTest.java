package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {
    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -0, 2.5e1, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\\/\"], \"b\": {}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1L, 0L, 25.0, true, false, Json.NULL, "xé😀\n/"), m.get("a"));
        assertEquals(Map.of(), m.get("b"));
        assertEquals(9.3e18, Json.parse("9300000000000000000"), "integers beyond a long become doubles");
    }

    /** The shapes tokenizer files use: escaped keys, nested objects, an empty array. */
    @Test
    void readsTheValuesTokenizerFilesUse() {
        Object value = Json.parse(" {\"a\\\"b\\\\\": 7, \"\\u00e9\\ud83d\\ude00\\n\": [-1.5e2, true, false, null, {}],"
                + " \"pad_token\": {\"content\": \"!\", \"special\": true}} ", "x.json");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a\"b\\", 7L);
        expected.put("é\uD83D\uDE00\n", Arrays.asList(-150.0, true, false, Json.NULL, Map.of()));
        expected.put("pad_token", Map.of("content", "!", "special", true));
        assertEquals(expected, value);
        assertEquals(List.of(), Json.parse("[]", "x.json"));
    }

    @Test
    void rejectsWhatStrictJsonRejects() {
        for (String bad : List.of("", "{", "{\"a\":1,}", "[1,]", "{\"a\":1} x", "{\"a\":1,\"a\":2}", "01", "1.", "-",
                "\"\\ud83d\"", "\"\\ude00\"", "\"\\x\"", "\"a\nb\"", "tru", "{a:1}", "[" .repeat(100) + "]".repeat(100),
                "\"\\u12\"", "'a'", "NaN", "{\"a\": }", "{\"a\" 1}", "[1, 2", "\"abc", "\"\\u12g4\"", "[" .repeat(600))) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void errorsNameTheSourceAndPosition(@TempDir Path dir) throws IOException {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\": }", "tok/vocab.json"));
        assertEquals("tok/vocab.json: invalid JSON at character 6: unexpected character '}'", e.getMessage());
        assertEquals(6, e.offset());
        assertEquals("unexpected character '}'", e.reason());
        Path file = Files.writeString(dir.resolve("config.json"), "[1, 2");
        e = assertThrows(Json.ParseException.class, () -> Json.read(file));
        assertTrue(e.getMessage().startsWith(file + ": invalid JSON at character 5: "), e.getMessage());
        assertTrue(assertThrows(Json.ParseException.class, () -> Json.parse("x")).getMessage().startsWith("invalid JSON at character 0: "));
    }

    @Test
    void readsUtf8Files(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("a.json"), "{\"é\": null}");
        assertSame(Json.NULL, ((Map<?, ?>) Json.read(file)).get("é"));
    }

    @Test
    void quoteRoundTrips() {
        String s = "q\"b\\s/\u0001\t\r\né😀";
        assertEquals(s, Json.parse(Json.quote(new StringBuilder(), s).toString()));
    }

    @Test
    void writeRoundTripsWhatParseReturns() {
        String text = "{\"a\":[1,-2,2.0,2.5E-7,true,false,null,\"x\\n\"],\"b\":{},\"c\":[]}";
        Object value = Json.parse(text);
        assertEquals(text, Json.write(value));
        assertEquals(value, Json.parse(Json.write(value)));
        assertEquals("[null,null,3]", Json.write(Arrays.asList(null, Double.NaN, 3)));
    }

    @Test
    void writesIndentedNestedValuesInOrderAndEscapesStrings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "conv \"3x3\"\n");
        m.put("gflops", 12.5);
        m.put("count", 3);
        m.put("whole", 2.0);
        m.put("missing", null);
        m.put("failed", Double.NaN);
        m.put("list", List.of(1, true));
        assertEquals("""
                {
                  "name": "conv \\"3x3\\"\\n",
                  "gflops": 12.5,
                  "count": 3,
                  "whole": 2,
                  "missing": null,
                  "failed": null,
                  "list": [
                    1,
                    true
                  ]
                }
                """, Json.writeIndented(m));
    }

    @Test
    void writesIndentedEmptyContainers() {
        assertEquals("[]\n", Json.writeIndented(List.of()));
        assertEquals("{}\n", Json.writeIndented(Map.of()));
        assertEquals("[\n  null\n]\n", Json.writeIndented(Arrays.asList((Object) null)));
    }
}
