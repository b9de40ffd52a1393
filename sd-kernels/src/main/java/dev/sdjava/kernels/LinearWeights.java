package dev.sdjava.kernels;

/** A linear layer's weight and bias in the layout one {@link Kernels} provider wants. */
public interface LinearWeights {
    int inFeatures();

    int outFeatures();
}
