package dev.sdjava.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesEveryKindOfValue() throws Json.ParseException {
        Object v = Json.parse(" {\"a\": [1, -0, 2.5e1, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\\/\"], \"b\": {}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1L, 0L, 25.0, true, false, Json.NULL, "xé😀\n/"), m.get("a"));
        assertEquals(Map.of(), m.get("b"));
        assertEquals(9.3e18, Json.parse("9300000000000000000"), "integers beyond a long become doubles");
    }

    @Test
    void rejectsWhatStrictJsonRejects() {
        for (String bad : List.of("", "{", "{\"a\":1,}", "[1,]", "{\"a\":1} x", "{\"a\":1,\"a\":2}", "01", "1.", "-",
                "\"\\ud83d\"", "\"\\ude00\"", "\"\\x\"", "\"a\nb\"", "tru", "{a:1}", "[" .repeat(100) + "]".repeat(100),
                "\"\\u12\"", "'a'", "NaN")) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void quoteRoundTrips() throws Json.ParseException {
        String s = "q\"b\\s/\u0001\t\r\né😀";
        assertEquals(s, Json.parse(Json.quote(new StringBuilder(), s).toString()));
    }
}
