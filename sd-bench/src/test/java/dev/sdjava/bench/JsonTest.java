package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesNestedValuesInOrderAndEscapesStrings() {
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
                """, Json.write(m));
    }

    @Test
    void emptyContainers() {
        assertEquals("[]\n", Json.write(List.of()));
        assertEquals("{}\n", Json.write(Map.of()));
        assertEquals("[\n  null\n]\n", Json.write(Arrays.asList((Object) null)));
    }
}
