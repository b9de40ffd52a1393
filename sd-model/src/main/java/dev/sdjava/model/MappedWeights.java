package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A component's tensors under diffusers names, held in a map: views of the mapped file(s) they came from, or made in memory. */
final class MappedWeights implements Weights {
    private final Map<String, Tensor> tensors;
    private final String source;

    MappedWeights(Map<String, Tensor> tensors, String source) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.source = source;
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(source + " has no tensor " + name);
        }
        return t;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public String toString() {
        return source + " (" + tensors.size() + " tensors)";
    }
}
