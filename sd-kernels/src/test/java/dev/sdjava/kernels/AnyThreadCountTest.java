package dev.sdjava.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Results are the same bits for any thread count: the pool's size is fixed per JVM and shapes how the kernels
 * split their work into tasks, so each other count runs in a JVM of its own. 1 and 5 threads against this
 * JVM's (the machine's cores): one task list per call, an odd count past the cores, and 16 attention heads
 * shared out by query block instead of by head.
 */
class AnyThreadCountTest {

    @Test
    void oneAndFiveThreadsGiveTheBitsOfThisJvmsPool(@TempDir Path dir) throws IOException, InterruptedException {
        Map<String, Integer> here = ThreadCountDigests.compute();
        for (int threads : new int[]{1, 5}) {
            Map<String, Integer> there = digestsWith(threads, dir);
            assertEquals(here.keySet(), there.keySet(), "cases run with sd.threads=" + threads);
            List<String> differing = here.keySet().stream().filter(c -> !here.get(c).equals(there.get(c))).toList();
            assertEquals(List.of(), differing, "cases whose bits differ between sd.threads=" + threads + " and "
                    + Parallel.threads());
        }
    }

    private static Map<String, Integer> digestsWith(int threads, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("threads-" + threads + ".txt");
        // The same vector width as this JVM's (its sums group by it), another pool size.
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:MaxVectorSize=" + Gemm.F.vectorByteSize(),
                "-Dsd.kernels=vector", "-Dsd.threads=" + threads,
                "-cp", System.getProperty("java.class.path"), ThreadCountDigests.class.getName());
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!child.waitFor(5, TimeUnit.MINUTES)) {
            child.destroyForcibly();
            throw new AssertionError("sd.threads=" + threads + ": no result in 5 minutes");
        }
        List<String> lines = Files.readAllLines(out);
        assertEquals(0, child.exitValue(), "sd.threads=" + threads + " exit status; output:\n" + String.join("\n", lines));
        assertEquals(List.of("threads " + threads + ", lanes " + Gemm.L),
                lines.stream().filter(l -> l.startsWith("threads ")).toList(), "the child's pool and vector width");
        Map<String, Integer> digests = new LinkedHashMap<>();
        for (String line : lines) {
            int space = line.lastIndexOf(' ');
            if (!line.startsWith("threads ") && !line.startsWith("WARNING") && space > 0) {
                digests.put(line.substring(0, space), Integer.parseInt(line.substring(space + 1)));
            }
        }
        return digests;
    }
}
