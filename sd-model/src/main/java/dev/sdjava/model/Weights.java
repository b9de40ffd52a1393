package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * One component's tensors (text encoder, U-Net, VAE) under their diffusers names, e.g.
 * {@code down_blocks.0.resnets.0.conv1.weight}, whatever layout the file on disk used: the loader
 * translates single-file (CompVis/A1111) names through its one mapping table, so model code only
 * ever speaks diffusers names. Tensors stay in their stored dtype, memory-mapped.
 */
public interface Weights {

    /** The tensors of {@code tensors} under their keys; {@code source} names them in errors (a file, "random weights"). */
    static Weights of(Map<String, Tensor> tensors, String source) {
        return new MappedWeights(tensors, source);
    }

    /** The tensor called {@code name}; throws {@link IllegalArgumentException} naming it and the source if absent. */
    Tensor get(String name);

    boolean contains(String name);

    /** Every name this source holds. */
    Set<String> names();

    /** A view in which {@code get("x")} means {@code get(prefix + "." + "x")}. */
    default Weights scope(String prefix) {
        Weights parent = this;
        String p = prefix + ".";
        return new Weights() {
            @Override
            public Tensor get(String name) {
                return parent.get(p + name);
            }

            @Override
            public boolean contains(String name) {
                return parent.contains(p + name);
            }

            @Override
            public Set<String> names() {
                return parent.names().stream().filter(n -> n.startsWith(p))
                        .map(n -> n.substring(p.length())).collect(java.util.stream.Collectors.toUnmodifiableSet());
            }
        };
    }
}
