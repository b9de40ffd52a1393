package dev.sdjava.kernels;

import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Chooses the {@link Kernels} implementation once, at start-up, in the spirit of Lucene's
 * VectorizationProvider: the Vector API kernels when the {@code jdk.incubator.vector} module is in the boot
 * layer, otherwise the scalar ones and one log line saying how to enable the fast path. The system property
 * {@code sd.kernels=scalar|vector} overrides the choice.
 *
 * <p>No class that touches the Vector API is loaded before the module check: {@link VectorKernels} is only
 * named through reflection.
 */
final class KernelProvider {
    private static final System.Logger LOG = System.getLogger(KernelProvider.class.getName());
    private static final String ENABLE_HINT = "run java with --add-modules jdk.incubator.vector";

    private KernelProvider() {
    }

    static Kernels selected() {
        return Holder.SELECTED;
    }

    /** Initialised on first use, so that merely loading the interface picks nothing. */
    private static final class Holder {
        static final Kernels SELECTED = choose(System.getProperty("sd.kernels"));
    }

    static Kernels choose(String requested) {
        boolean vectorPresent = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        String want = requested == null ? "" : requested.trim().toLowerCase(Locale.ROOT);
        switch (want) {
            case "scalar":
                return new ScalarKernels();
            case "vector":
                if (!vectorPresent) {
                    throw new IllegalStateException("sd.kernels=vector but the jdk.incubator.vector module is absent: "
                            + ENABLE_HINT);
                }
                return loadVector();
            case "":
                if (!vectorPresent) {
                    LOG.log(Level.WARNING, "sd-kernels: the Vector API is not enabled, using the slow scalar kernels; "
                            + ENABLE_HINT + " for the fast ones");
                    return new ScalarKernels();
                }
                return loadVector();
            default:
                throw new IllegalArgumentException("system property sd.kernels must be 'scalar' or 'vector', was '"
                        + requested + "'");
        }
    }

    private static Kernels loadVector() {
        try {
            return (Kernels) Class.forName("dev.sdjava.kernels.VectorKernels")
                    .getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot start the Vector API kernels", e);
        }
    }
}
