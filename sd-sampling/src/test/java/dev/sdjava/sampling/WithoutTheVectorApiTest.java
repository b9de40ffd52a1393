package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Vector API is an incubator module that every JVM must be asked for. One started without it (as an
 * embedding application may be) must still generate, on the scalar kernels, and say once how to get the fast
 * ones: no NoClassDefFoundError from any class on the way, from loading the model to the image.
 */
class WithoutTheVectorApiTest {
    private static final String HINT = "--add-modules jdk.incubator.vector";

    @Test
    void aJvmWithoutTheModuleGeneratesOnTheScalarKernelsAndSaysOnceHowToEnableTheFastOnes(@TempDir Path dir)
            throws IOException, InterruptedException {
        Path out = dir.resolve("stdout.txt");
        Path err = dir.resolve("stderr.txt");
        // The test JVM's own flags are not passed on: that is the point.
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dsd.testdata=" + System.getProperty("sd.testdata"),
                WithoutTheVectorApi.class.getName());
        Process child = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!child.waitFor(5, TimeUnit.MINUTES)) {
            child.destroyForcibly();
            throw new AssertionError("the JVM without the Vector API did not finish in 5 minutes");
        }
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        String transcript = "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
        assertEquals(0, child.exitValue(), "exit status" + transcript);
        assertTrue(stdout.contains("kernels: scalar"), "the scalar kernels are chosen" + transcript);
        assertTrue(stdout.contains("matches diffusers"), "the image is the golden one" + transcript);
        assertEquals(1, stderr.lines().filter(line -> line.contains(HINT)).count(), "one line naming " + HINT + transcript);
    }
}
