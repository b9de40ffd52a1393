package dev.sdjava.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a benchmark report says about the machine it ran on (Linux /proc; absent elsewhere). */
final class Machine {
    private Machine() {
    }

    /** The 1-minute load average, or NaN: above the core count, every timing here is inflated. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** This process's peak resident set (VmHWM) in MiB, or NaN where /proc/self/status is missing. */
    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return Double.NaN;
    }

    /**
     * Resets the peak RSS to the current RSS (Linux: {@code 5 > /proc/self/clear_refs}), so that work done
     * before a measurement (writing the random checkpoint) does not count; false where unsupported.
     */
    static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static String describe() {
        return Runtime.getRuntime().availableProcessors() + " cores, load average " + loadAverage();
    }
}
