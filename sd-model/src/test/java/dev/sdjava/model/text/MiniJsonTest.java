package dev.sdjava.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MiniJsonTest {

    @Test
    void readsTheValuesTokenizerFilesUse() {
        Object value = MiniJson.parse(" {\"a\\\"b\\\\\": 7, \"\\u00e9\\ud83d\\ude00\\n\": [-1.5e2, true, false, null, {}],"
                + " \"pad_token\": {\"content\": \"!\", \"special\": true}} ", "x.json");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("a\"b\\", 7L);
        expected.put("é\uD83D\uDE00\n", Arrays.asList(-150.0, true, false, null, Map.of()));
        expected.put("pad_token", Map.of("content", "!", "special", true));
        assertEquals(expected, value);
        assertEquals(List.of(), MiniJson.parse("[]", "x.json"));
    }

    @Test
    void malformedInputNamesTheFileAndPosition() {
        for (String bad : List.of("{\"a\": }", "{\"a\" 1}", "[1, 2", "\"abc", "{\"a\": 1} x", "\"\\u12g4\"", "[" .repeat(600), "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MiniJson.parse(bad, "tok/vocab.json"));
            assertTrue(e.getMessage().startsWith("tok/vocab.json: invalid JSON at character "), e.getMessage());
        }
    }
}
