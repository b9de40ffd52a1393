/** Compute kernels (GEMM, convolution, attention, norms, activations) behind one provider. */
module dev.sdjava.kernels {
    requires transitive dev.sdjava.tensor;
    // Optional: without it the scalar kernels run and a log line says how to enable the fast ones.
    requires static jdk.incubator.vector;
    exports dev.sdjava.kernels;
}
