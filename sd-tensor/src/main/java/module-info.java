/** Tensors over off-heap memory and the .safetensors reader and writer. */
module dev.sdjava.tensor {
    exports dev.sdjava.tensor;
}
