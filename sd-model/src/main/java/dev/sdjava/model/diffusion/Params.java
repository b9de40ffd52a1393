package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.ConvWeights;
import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;
import dev.sdjava.tensor.Tensor;
import java.util.Arrays;

/**
 * Reading one layer's parameters out of {@link Weights}, checking each shape against what the network expects.
 * Each tensor is {@link Tensor#unload() unloaded} once copied into the network: the network holds the one copy.
 */
final class Params {
    private Params() {
    }

    /** {@code name.weight} (and {@code name.bias} when present) as a linear layer {@code [out, in]} or a 1x1 conv {@code [out, in, 1, 1]}. */
    static LinearWeights linear(Kernels k, Weights w, String name, int in, int out) {
        Tensor weight = w.get(name + ".weight");
        boolean conv1x1 = weight.rank() == 4 && weight.dim(2) == 1 && weight.dim(3) == 1;
        if (!(weight.rank() == 2 || conv1x1) || weight.dim(0) != out || weight.dim(1) != in) {
            throw mismatch(name + ".weight", weight, "[" + out + ", " + in + "] or [" + out + ", " + in + ", 1, 1]");
        }
        Tensor bias = bias(w, name, out);
        return consumed(k.prepareLinear(weight, bias), weight, bias);
    }

    /**
     * {@code name.weight [2·half, in]} and its bias as two layers of {@code half} outputs each, its first and its
     * second half of rows: a projection whose output is split in two, as GEGLU's value and gate.
     */
    static LinearWeights[] linearHalves(Kernels k, Weights w, String name, int in, int half) {
        Tensor weight = w.get(name + ".weight");
        int out = 2 * half;
        check(name + ".weight", weight, out, in);
        Tensor bias = bias(w, name, out);
        LinearWeights first = k.prepareLinear(weight.slice(0, half), bias == null ? null : bias.slice(0, half));
        LinearWeights second = k.prepareLinear(weight.slice(half, out), bias == null ? null : bias.slice(half, out));
        return consumed(new LinearWeights[]{first, second}, weight, bias);
    }

    /** {@code name.weight [out, in, size, size]} and its bias, if any. */
    static ConvWeights conv(Kernels k, Weights w, String name, int in, int out, int size) {
        Tensor weight = w.get(name + ".weight");
        check(name + ".weight", weight, out, in, size, size);
        Tensor bias = bias(w, name, out);
        return consumed(k.prepareConv(weight, bias), weight, bias);
    }

    /** {@code name} as a heap vector of {@code length} floats (norm scales and shifts). */
    static float[] vector(Weights w, String name, int length) {
        Tensor t = w.get(name);
        check(name, t, length);
        return consumed(t.toFloatArray(), t);
    }

    /** Dimension {@code dim} of {@code name}, for reading a network's shape off its weights. */
    static int dim(Weights w, String name, int dim) {
        return Math.toIntExact(w.get(name).dim(dim));
    }

    /** {@code prepared}, after unloading the tensors it was copied from. */
    private static <T> T consumed(T prepared, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.unload();
            }
        }
        return prepared;
    }

    private static Tensor bias(Weights w, String name, int out) {
        if (!w.contains(name + ".bias")) {
            return null;
        }
        Tensor bias = w.get(name + ".bias");
        check(name + ".bias", bias, out);
        return bias;
    }

    private static void check(String name, Tensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw mismatch(name, t, Arrays.toString(shape));
        }
    }

    private static IllegalArgumentException mismatch(String name, Tensor t, String expected) {
        return new IllegalArgumentException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                + ", expected " + expected);
    }
}
