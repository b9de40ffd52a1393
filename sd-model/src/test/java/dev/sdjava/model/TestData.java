package dev.sdjava.model;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the golden files are: the folder surefire passes in {@code sd.testdata}. */
public final class TestData {
    private TestData() {
    }

    public static Path golden() {
        String dir = System.getProperty("sd.testdata");
        if (dir == null) {
            throw new IllegalStateException("system property sd.testdata is not set (surefire sets it; run through ./sd test)");
        }
        Path golden = Path.of(dir, "golden");
        if (!Files.isDirectory(golden)) {
            throw new IllegalStateException(golden + " does not exist");
        }
        return golden;
    }

    public static Path model(String name) {
        return golden().resolve("models").resolve(name);
    }

    public static Path cases(String model) {
        return golden().resolve("cases").resolve(model);
    }

    /** The tiny models' text encoders have 4 heads, which a single file cannot tell (real CLIP: head size 64). */
    public static LoadOptions singleFileOptions() {
        return LoadOptions.defaults().withTextEncoderHeads(4);
    }
}
