package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Map;

/** Reading hyper-parameters off tensor shapes, tolerant of absent tensors (the schema check reports those). */
final class Shapes {
    private Shapes() {
    }

    /** Dimension {@code axis} of the first of {@code names} present with that many dimensions; 0 if none. */
    static long dim(Map<String, Tensor> tensors, int axis, String... names) {
        for (String name : names) {
            Tensor t = tensors.get(name);
            if (t != null && t.rank() > axis) {
                return t.dim(axis);
            }
        }
        return 0;
    }

    static int rank(Map<String, Tensor> tensors, String name) {
        Tensor t = tensors.get(name);
        return t == null ? 0 : t.rank();
    }
}
