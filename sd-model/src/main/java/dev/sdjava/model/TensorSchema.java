package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors a network of a detected configuration needs, name → shape, and the comparison with
 * what a checkpoint holds. Built by the {@code *Config} records from the same block structure their
 * networks have; every problem is collected, none stops the check, so a user sees all of them at once.
 */
final class TensorSchema {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    Map<String, long[]> shapes() {
        return shapes;
    }

    TensorSchema tensor(String name, long... shape) {
        shapes.put(name, shape);
        return this;
    }

    /** {@code prefix.weight [out, in]} and {@code prefix.bias [out]}. */
    TensorSchema linear(String prefix, long out, long in) {
        return tensor(prefix + ".weight", out, in).tensor(prefix + ".bias", out);
    }

    /** A linear layer without bias (the U-Net's q/k/v projections). */
    TensorSchema linearNoBias(String prefix, long out, long in) {
        return tensor(prefix + ".weight", out, in);
    }

    TensorSchema conv(String prefix, long out, long in, long kernel) {
        return tensor(prefix + ".weight", out, in, kernel, kernel).tensor(prefix + ".bias", out);
    }

    /** A LayerNorm or GroupNorm: {@code weight} and {@code bias}, both {@code [channels]}. */
    TensorSchema norm(String prefix, long channels) {
        return tensor(prefix + ".weight", channels).tensor(prefix + ".bias", channels);
    }

    /** What differs between this schema and {@code actual}, names as {@code fileName} spells them. */
    Problems check(Map<String, Tensor> actual, java.util.function.UnaryOperator<String> fileName) {
        Problems p = new Problems();
        shapes.forEach((name, shape) -> {
            Tensor t = actual.get(name);
            if (t == null) {
                p.missing.add(describe(name, fileName));
            } else if (!Arrays.equals(t.shape(), shape)) {
                p.misshaped.add(describe(name, fileName) + " is " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
            } else if (!t.dtype().isFloatingPoint()) {
                p.misshaped.add(describe(name, fileName) + " is " + t.dtype() + ", expected a floating-point type");
            }
        });
        actual.keySet().stream().filter(n -> !shapes.containsKey(n))
                .forEach(n -> p.unexpected.add(describe(n, fileName) + " " + Arrays.toString(actual.get(n).shape())));
        return p;
    }

    private static String describe(String name, java.util.function.UnaryOperator<String> fileName) {
        String file = fileName.apply(name);
        return file.equals(name) ? name : file + " (" + name + ")";
    }

    /** A check's findings, each list complete. */
    static final class Problems {
        final List<String> missing = new ArrayList<>();
        /** Wrong shape or a non-float dtype. */
        final List<String> misshaped = new ArrayList<>();
        final List<String> unexpected = new ArrayList<>();

        boolean isEmpty() {
            return missing.isEmpty() && misshaped.isEmpty() && unexpected.isEmpty();
        }

        /** One block of an error message: a headline per kind, then every name on its own line. */
        void appendTo(StringBuilder sb) {
            section(sb, "missing", missing);
            section(sb, "wrong shape", misshaped);
            section(sb, "unexpected", unexpected);
        }

        private static void section(StringBuilder sb, String what, List<String> names) {
            if (!names.isEmpty()) {
                sb.append("\n  ").append(what).append(" (").append(names.size()).append("):");
                names.forEach(n -> sb.append("\n    ").append(n));
            }
        }
    }
}
