package dev.sdjava.bench;

/** {@code ./sd bench ...}: kernel and end-to-end benchmarks. */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) {
        System.err.println("sd bench: no benchmarks yet");
        System.exit(2);
    }
}
