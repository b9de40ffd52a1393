package dev.sdjava.bench;

import java.util.Arrays;

/** Wall-clock timing of repeated runs: warm-up runs first (discarded), then the median of the rest. */
record Timing(double[] seconds) {

    static Timing of(int warmups, int runs, Runnable body) {
        for (int i = 0; i < warmups; i++) {
            body.run();
        }
        double[] s = new double[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            body.run();
            s[i] = (System.nanoTime() - start) * 1e-9;
        }
        return new Timing(s);
    }

    /** The median; with an even count, the mean of the middle two. */
    double median() {
        double[] s = seconds.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    double min() {
        return Arrays.stream(seconds).min().orElse(Double.NaN);
    }
}
