package dev.sdjava.kernels;

/** A convolution's weight and bias in the layout one {@link Kernels} provider wants. */
public interface ConvWeights {
    int outChannels();

    int inChannels();

    int kernelHeight();

    int kernelWidth();
}
