package dev.sdjava.model;

/** The three networks a Stable Diffusion checkpoint holds. */
public enum Component {
    TEXT_ENCODER("text encoder", "text_encoder"),
    UNET("U-Net", "unet"),
    VAE("VAE", "vae");

    private final String label;
    private final String folder;

    Component(String label, String folder) {
        this.label = label;
        this.folder = folder;
    }

    /** The subfolder of a diffusers pipeline folder that holds this component. */
    public String folder() {
        return folder;
    }

    @Override
    public String toString() {
        return label;
    }
}
