package dev.sdjava.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectTest {
    static final Path MODELS = Path.of(System.getProperty("sd.testdata", "../testdata"), "golden", "models");

    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
    }

    static Result sd(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void listsEveryTensorOfASingleFile() {
        Result r = sd("inspect", MODELS.resolve("tiny-sd1.safetensors").toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("980 tensors"), r.out());
        assertTrue(r.out().contains("metadata: none"), r.out());
        assertTrue(r.out().matches("(?s).*cond_stage_model\\.transformer\\.text_model\\.embeddings\\.token_embedding\\.weight"
                + " +F16 +\\[49408, 32].*"), r.out());
        assertEquals(2 + 980, r.out().lines().count());
    }

    @Test
    void listsEachComponentOfADiffusersFolder() {
        Result r = sd("inspect", MODELS.resolve("tiny-sd1").toString());
        assertEquals(0, r.status(), r.err());
        for (String component : new String[] {"text_encoder/model.safetensors", "unet/diffusion_pytorch_model.safetensors",
                "vae/diffusion_pytorch_model.safetensors"}) {
            assertTrue(r.out().contains("== " + component + ": "), r.out());
        }
        assertTrue(r.out().contains("  format = pt"), r.out());
    }

    @Test
    void aBrokenOrMissingFileIsOneLineAndNonZero() throws IOException {
        Path broken = dir.resolve("broken.safetensors");
        Files.write(broken, new byte[] {1, 2, 3});
        for (Path p : new Path[] {broken, dir.resolve("missing.safetensors"), dir}) {
            Result r = sd("inspect", p.toString());
            assertEquals(1, r.status(), p.toString());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("sd inspect: ") && r.err().contains(p.toString()), r.err());
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        }
        assertEquals(2, sd("inspect").status());
        assertEquals(2, sd("no-such-command").status());
    }
}
