/** Tokenizer, CLIP text encoder, U-Net, VAE and the checkpoint loader. */
module dev.sdjava.model {
    requires transitive dev.sdjava.kernels;
    exports dev.sdjava.model;
    exports dev.sdjava.model.diffusion;
    exports dev.sdjava.model.text;
}
