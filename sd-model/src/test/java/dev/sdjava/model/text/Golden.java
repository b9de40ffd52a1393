package dev.sdjava.model.text;

import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Reads the golden tokenizer cases (testdata/golden/README.md §5.1) for the tests of this package. */
final class Golden {

    private Golden() {
    }

    static Path testdata() {
        String dir = System.getProperty("sd.testdata");
        if (dir == null) {
            throw new IllegalStateException("system property sd.testdata is not set (surefire sets it)");
        }
        return Path.of(dir);
    }

    static Path modelFolder(String model) {
        return testdata().resolve("golden/models").resolve(model);
    }

    record Entry(String prompt, int[] ids, int[] idsUntruncated) {
    }

    static List<Entry> tokenizerCases(String model) {
        Map<?, ?> root = (Map<?, ?>) json(testdata().resolve("golden/cases").resolve(model).resolve("tokenizer.json"));
        return ((List<?>) root.get("entries")).stream()
                .map(e -> (Map<?, ?>) e)
                .map(e -> new Entry((String) e.get("prompt"), ints(e.get("ids")), ints(e.get("ids_untruncated"))))
                .toList();
    }

    static Object json(Path file) {
        try {
            return Json.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(Object jsonArray) {
        return ((List<?>) jsonArray).stream().mapToInt(x -> ((Long) x).intValue()).toArray();
    }
}
