package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TimingTest {
    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, new Timing(new double[] {3, 1, 2}).median());
        assertEquals(2.5, new Timing(new double[] {4, 1, 3, 2}).median());
        assertEquals(1.0, new Timing(new double[] {4, 1, 3, 2}).min());
    }

    @Test
    void runsWarmupsThenMeasuredRuns() {
        AtomicInteger n = new AtomicInteger();
        Timing t = Timing.of(2, 3, n::incrementAndGet);
        assertEquals(5, n.get());
        assertEquals(3, t.seconds().length);
    }
}
