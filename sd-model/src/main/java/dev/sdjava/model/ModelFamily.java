package dev.sdjava.model;

/** The Stable Diffusion generations sd-java runs, told apart by their tensors. */
public enum ModelFamily {
    /** SD 1.x: CLIP ViT-L/14 text tower (quick_gelu), U-Net proj_in/proj_out as 1x1 convs, 8 heads. */
    SD1,
    /** SD 2.x: OpenCLIP ViT-H text tower (gelu, penultimate block), Linear proj_in/proj_out, head size 64. */
    SD2;

    /** The U-Net attention heads when no config says: SD 1.x 8 heads per level, SD 2.x head size 64. */
    public AttentionHeads defaultHeads() {
        return this == SD1 ? AttentionHeads.perLevel(8) : AttentionHeads.ofHeadDim(64);
    }

    @Override
    public String toString() {
        return this == SD1 ? "SD 1.x" : "SD 2.x";
    }
}
