package dev.sdjava.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread pool every kernel shares: {@code sd.threads} threads (default: the available cores), the
 * calling thread being one of them, started once and never per call.
 *
 * <p>Work is split by output: {@link #forRange} hands out disjoint index ranges of a task count the kernel
 * chooses (rows, tiles, channels), and each output is computed start to finish by one thread in a fixed
 * order, so results do not depend on how many threads there are or which one ran a range. A call made from
 * inside a parallel region runs inline (no nested fan-out).
 */
public final class Parallel {

    /** A body run over the task indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private static final int THREADS = configuredThreads();
    private static final Worker[] WORKERS = startWorkers(THREADS - 1);
    /** True on a pool worker and on a caller while it runs its share of a region. */
    private static final ThreadLocal<boolean[]> INSIDE = ThreadLocal.withInitial(() -> new boolean[1]);

    private Parallel() {
    }

    /** Threads the kernels use, counting the caller. */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over {@code [0, tasks)}, split into contiguous ranges claimed by the pool threads and
     * the caller; returns when all are done. An exception from any range is rethrown here.
     */
    public static void forRange(int tasks, Range body) {
        if (tasks <= 0) {
            return;
        }
        boolean[] inside = INSIDE.get();
        if (THREADS == 1 || tasks == 1 || inside[0]) {
            body.run(0, tasks);
            return;
        }
        Job job = new Job(body, tasks, Thread.currentThread());
        int helpers = Math.min(WORKERS.length, tasks - 1);
        for (int i = 0; i < helpers; i++) {
            WORKERS[i].offer(job);
        }
        inside[0] = true;
        try {
            job.work();
        } finally {
            inside[0] = false;
        }
        job.awaitAll();
    }

    /** Runs {@code action} with every kernel inside it on the calling thread alone (what one thread computes). */
    static void serially(Runnable action) {
        boolean[] inside = INSIDE.get();
        boolean was = inside[0];
        inside[0] = true;
        try {
            action.run();
        } finally {
            inside[0] = was;
        }
    }

    private static int configuredThreads() {
        String p = System.getProperty("sd.threads");
        if (p == null || p.isBlank()) {
            return Math.max(1, Runtime.getRuntime().availableProcessors());
        }
        try {
            int n = Integer.parseInt(p.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("system property sd.threads must be a positive integer, was '" + p + "'");
    }

    private static Worker[] startWorkers(int n) {
        Worker[] w = new Worker[n];
        for (int i = 0; i < n; i++) {
            w[i] = new Worker(i + 1);
            w[i].start();
        }
        return w;
    }

    /**
     * One parallel region: ranges claimed through a counter, tasks counted down to zero when done. Ranges shrink
     * as the region drains ("guided" scheduling): a claim takes 1/(2·threads) of what is left, at least
     * 1/(16·threads) of the whole. Large first ranges keep consecutive tasks, which kernels order to share data
     * (a block of rows across weight panels), on one thread; small last ones leave no thread idle long at the end.
     * Equal ranges of 1/(4·threads) left a thread up to a quarter of its share idle; of 1/(16·threads), the
     * 1280 -> 320 linear read its input twice as often and lost 4%.
     */
    private static final class Job {
        final Range body;
        final int tasks;
        final int least;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger remaining;
        volatile Throwable failure;

        Job(Range body, int tasks, Thread caller) {
            this.body = body;
            this.tasks = tasks;
            this.least = Math.max(1, tasks / (16 * THREADS));
            this.caller = caller;
            this.remaining = new AtomicInteger(tasks);
        }

        void work() {
            int from;
            while ((from = next.get()) < tasks) {
                int to = Math.min(tasks, from + Math.max(least, (tasks - from) / (2 * THREADS)));
                if (!next.compareAndSet(from, to)) {
                    continue;
                }
                try {
                    if (failure == null) {
                        body.run(from, to);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
                if (remaining.addAndGet(from - to) == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }

        void awaitAll() {
            while (remaining.get() != 0) {
                LockSupport.park(this);
            }
            Throwable t = failure;
            if (t instanceof RuntimeException e) {
                throw e;
            } else if (t instanceof Error e) {
                throw e;
            } else if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    /** A pool thread: waits for a job, helps with it, waits again. */
    private static final class Worker extends Thread {
        private final java.util.concurrent.LinkedTransferQueue<Job> queue = new java.util.concurrent.LinkedTransferQueue<>();

        Worker(int index) {
            super("sd-kernels-" + index);
            setDaemon(true);
        }

        void offer(Job job) {
            queue.offer(job);
        }

        @Override
        public void run() {
            INSIDE.get()[0] = true;
            while (true) {
                Job job;
                try {
                    job = queue.take();
                } catch (InterruptedException e) {
                    continue;
                }
                job.work();
            }
        }
    }
}
