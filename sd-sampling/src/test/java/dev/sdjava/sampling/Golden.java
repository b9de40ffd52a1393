package dev.sdjava.sampling;

import dev.sdjava.model.PredictionType;
import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Json;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One golden case: its JSON sidecar and its tensors, read into heap arrays (golden README §2). */
final class Golden {
    final Map<String, Object> json;
    private final Map<String, float[]> floats = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private final Map<String, long[]> longs = new HashMap<>();

    private Golden(Path base) {
        try {
            Path sidecar = base.resolveSibling(base.getFileName() + ".json");
            @SuppressWarnings("unchecked") // the .fp16ref tensor files have no sidecar of their own
            Map<String, Object> j = Files.exists(sidecar) ? (Map<String, Object>) Json.read(sidecar) : Map.of();
            json = j;
            try (SafeTensors st = SafeTensors.open(base.resolveSibling(base.getFileName() + ".safetensors"))) {
                for (String name : st.names()) {
                    Tensor t = st.tensor(name);
                    shapes.put(name, t.shape());
                    if (t.dtype() == DType.I64) {
                        longs.put(name, t.data().toArray(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)));
                    } else {
                        floats.put(name, t.toFloatArray());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The folder of the golden set, from the system property surefire sets. */
    static Path root() {
        String dir = System.getProperty("sd.testdata");
        if (dir == null) {
            throw new IllegalStateException("system property sd.testdata is not set (run the tests through ./sd test)");
        }
        return Path.of(dir, "golden");
    }

    /** A case by its path below golden/cases without extension, e.g. {@code "tiny-sd1/schedulers/ddim"}. */
    static Golden load(String casePath) {
        return new Golden(root().resolve("cases").resolve(casePath));
    }

    boolean has(String name) {
        return floats.containsKey(name) || longs.containsKey(name);
    }

    /** A fresh copy of a tensor's values (int64 ones converted). */
    float[] f(String name) {
        float[] v = floats.get(name);
        if (v != null) {
            return v.clone();
        }
        long[] l = longs.get(name);
        if (l == null) {
            throw new IllegalArgumentException("golden tensor " + name + " not found");
        }
        v = new float[l.length];
        for (int i = 0; i < l.length; i++) {
            v[i] = l[i];
        }
        return v;
    }

    long[] i64(String name) {
        long[] v = longs.get(name);
        if (v == null) {
            throw new IllegalArgumentException("golden int64 tensor " + name + " not found");
        }
        return v;
    }

    long[] shape(String name) {
        return shapes.get(name);
    }

    /** Row {@code i} of a tensor stacked along its first axis. */
    float[] row(String name, int i) {
        float[] all = f(name);
        int n = (int) (all.length / shapes.get(name)[0]);
        float[] r = new float[n];
        System.arraycopy(all, i * n, r, 0, n);
        return r;
    }

    /** Follows a path of object keys and list indexes (as Integers) in the JSON. */
    static Object walk(Object node, Object... path) {
        for (Object p : path) {
            node = p instanceof Integer i ? ((List<?>) node).get(i) : ((Map<?, ?>) node).get(p);
        }
        return node;
    }

    Object at(Object... path) {
        return walk(json, path);
    }

    /** The prediction type named by a diffusers {@code prediction_type} in a sidecar. */
    static PredictionType prediction(String diffusersName) {
        for (PredictionType p : PredictionType.values()) {
            if (p.diffusersName().equals(diffusersName)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown prediction_type " + diffusersName);
    }

    static double[] doubles(Object list) {
        List<?> l = (List<?>) list;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).doubleValue();
        }
        return d;
    }
}
