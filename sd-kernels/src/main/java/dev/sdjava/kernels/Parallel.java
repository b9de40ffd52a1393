package dev.sdjava.kernels;

import java.lang.foreign.MemorySegment;
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
        forRange(tasks, 1, body);
    }

    /**
     * {@link #forRange(int, Range)} with ranges made of whole groups of {@code grain} consecutive tasks (the last
     * group may be short): tasks that share work a thread does once for them, such as packing one attention
     * head's keys, stay on one thread.
     */
    public static void forRange(int tasks, int grain, Range body) {
        if (tasks <= 0) {
            return;
        }
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be at least 1, was " + grain);
        }
        boolean[] inside = INSIDE.get();
        if (THREADS == 1 || tasks <= grain || inside[0]) {
            body.run(0, tasks);
            return;
        }
        Job job = new Job(body, tasks, grain, Thread.currentThread());
        int helpers = Math.min(WORKERS.length, job.groups - 1);
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

    /**
     * Whether the pool's threads may read {@code segment}: a mapped file or a shared arena's memory, not a confined
     * arena's, which only its owner thread may touch.
     */
    static boolean canRead(MemorySegment segment) {
        return WORKERS.length == 0 || segment.isAccessibleBy(WORKERS[0]);
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
     * One parallel region: ranges of groups claimed through a counter, groups counted down to zero when done.
     * Ranges shrink as the region drains ("guided" scheduling): a claim takes 1/(2·threads) of the groups left,
     * at least 1/(16·threads) of all. Large first ranges keep consecutive tasks, which kernels order to share
     * data (a block of rows across weight panels), on one thread; small last ones leave no thread idle long at
     * the end. Equal ranges of 1/(4·threads) left a thread up to a quarter of its share idle; of 1/(16·threads),
     * the 1280 -> 320 linear read its input twice as often and lost 4%.
     */
    private static final class Job {
        final Range body;
        final int tasks;
        final int grain;
        final int groups;
        final int least;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger remaining;
        volatile Throwable failure;

        Job(Range body, int tasks, int grain, Thread caller) {
            this.body = body;
            this.tasks = tasks;
            this.grain = grain;
            this.groups = (tasks + grain - 1) / grain;
            this.least = Math.max(1, groups / (16 * THREADS));
            this.caller = caller;
            this.remaining = new AtomicInteger(groups);
        }

        void work() {
            int from;
            while ((from = next.get()) < groups) {
                int to = Math.min(groups, from + Math.max(least, (groups - from) / (2 * THREADS)));
                if (!next.compareAndSet(from, to)) {
                    continue;
                }
                try {
                    if (failure == null) {
                        body.run(from * grain, Math.min(tasks, to * grain));
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
