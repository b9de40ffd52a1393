package dev.sdjava.bench;

import dev.sdjava.kernels.ConvWeights;
import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link Kernels} that forwards every call to another provider and adds its wall time, and its FLOPs where
 * the arguments give them, to the call's kind: conv, linear, attention, norm, or other (element-wise and
 * layout work). The models are handed this instead of the real provider (they take a {@code Kernels} when
 * loaded), so one U-Net step can be broken down by kind.
 *
 * <p>A dynamic proxy rather than a class implementing each method: the interface grows as the kernels do,
 * and a new method must neither break this benchmark nor go uncounted. The per-call cost (reflection, boxing)
 * is well under a microsecond against kernels of milliseconds.
 */
final class ProfilingKernels {
    static final String[] KINDS = {"conv", "linear", "attention", "norm", "other"};

    /** Calls, nanoseconds and FLOPs per kind, since the last {@link #reset()}. */
    private final long[] calls = new long[KINDS.length];
    private final long[] nanos = new long[KINDS.length];
    private final double[] flops = new double[KINDS.length];
    private final Kernels kernels;

    ProfilingKernels(Kernels delegate) {
        this.kernels = (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[] {Kernels.class},
                (proxy, method, args) -> invoke(delegate, method, args));
    }

    /** The profiling provider to hand to the models. */
    Kernels kernels() {
        return kernels;
    }

    synchronized void reset() {
        java.util.Arrays.fill(calls, 0);
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(flops, 0);
    }

    /** Per kind: {@code calls}, {@code seconds}, {@code flops}, {@code gflops}; kinds without calls are left out. */
    synchronized Map<String, Map<String, Object>> breakdown() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (int i = 0; i < KINDS.length; i++) {
            if (calls[i] == 0) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("calls", calls[i]);
            m.put("seconds", nanos[i] * 1e-9);
            m.put("flops", flops[i]);
            m.put("gflops", flops[i] > 0 ? flops[i] / nanos[i] : null);
            out.put(KINDS[i], m);
        }
        return out;
    }

    private Object invoke(Kernels delegate, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class || method.getName().startsWith("prepare")
                || method.getName().equals("name")) {
            return call(delegate, method, args); // not kernel work: identity methods, load-time weight preparation
        }
        long start = System.nanoTime();
        Object result = call(delegate, method, args);
        long elapsed = System.nanoTime() - start;
        int kind = kind(method.getName());
        synchronized (this) {
            calls[kind]++;
            nanos[kind] += elapsed;
            flops[kind] += flops(method.getName(), args);
        }
        return result;
    }

    private static Object call(Kernels delegate, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    static int kind(String method) {
        return switch (method) {
            case "conv2d" -> 0;
            case "linear", "geglu" -> 1;
            case "attention", "softmax" -> 2;
            case "groupNorm", "layerNorm" -> 3;
            default -> 4;
        };
    }

    /** FLOPs of one call, counted as {@link ArchitectureFlops} counts them; 0 for uncounted kinds. */
    static double flops(String method, Object[] a) {
        return switch (method) {
            case "linear" -> {
                LinearWeights w = (LinearWeights) a[2];
                yield Flops.linear((int) a[1], w.inFeatures(), w.outFeatures());
            }
            case "geglu" -> { // the value and the gate projection
                LinearWeights w = (LinearWeights) a[2];
                yield 2 * Flops.linear((int) a[1], w.inFeatures(), w.outFeatures());
            }
            case "conv2d" -> {
                ConvWeights w = (ConvWeights) a[4];
                yield (int) a[1] * Flops.conv(w.inChannels(), w.outChannels(), 1, (int) a[8], (int) a[9])
                        * w.kernelHeight() * w.kernelWidth(); // Flops.conv takes square kernels
            }
            case "attention" -> Flops.attention((int) a[3], (int) a[4], (int) a[5], (int) a[6], (int) a[7]);
            case "groupNorm" -> Flops.groupNorm((long) (int) a[1] * (int) a[2] * (int) a[3]);
            case "layerNorm" -> Flops.groupNorm((long) (int) a[1] * (int) a[2]);
            default -> 0;
        };
    }
}
