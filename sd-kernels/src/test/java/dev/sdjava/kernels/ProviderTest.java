package dev.sdjava.kernels;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProviderTest {

    @Test
    void theVectorKernelsAreChosenWhenTheModuleIsPresentAndThePropertyOverrides() {
        assertInstanceOf(VectorKernels.class, KernelProvider.choose(null)); // surefire adds the module
        assertInstanceOf(VectorKernels.class, KernelProvider.choose("vector"));
        assertEquals("scalar", KernelProvider.choose("scalar").name());
        assertThrows(IllegalArgumentException.class, () -> KernelProvider.choose("gpu"));
    }

    @Test
    void everyTaskRunsExactlyOnceAndFailuresReachTheCaller() {
        for (int n : new int[]{1, 2, 7, 1000}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.forRange(n, (a, b) -> {
                for (int i = a; i < b; i++) {
                    seen.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen.get(i));
            }
        }
        assertThrows(ArithmeticException.class, () -> Parallel.forRange(100, (a, b) -> {
            if (b == 100) {
                throw new ArithmeticException("boom");
            }
        }));
    }

    @Test
    void rangesKeepWholeGroupsOfTasks() {
        for (int[] c : new int[][]{{1000, 64}, {1000, 7}, {513, 64}, {5, 8}}) {
            int n = c[0], grain = c[1];
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.forRange(n, grain, (a, b) -> {
                assertEquals(0, a % grain, "a range starts inside a group");
                assertTrue(b % grain == 0 || b == n, "a range ends inside a group");
                for (int i = a; i < b; i++) {
                    seen.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, seen.get(i));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(10, 0, (a, b) -> { }));
    }
}
