package dev.sdjava.sampling;

/**
 * Whether the VAE decodes (and, for img2img, encodes) the image in overlapping tiles. Tiling keeps the VAE's
 * memory flat however large the image (a whole decode's activations grow with the area: 0.7 GB at 512x512,
 * 1.6 GB at 768x768, 2.8 GB at 1024x1024; in 512 px tiles they stay under 0.7 GB, 0.5 GB at 1024x1024), at the
 * cost of some repeated work in the overlaps and a slightly different image: each tile is normalised on its own
 * statistics, as in diffusers' {@code enable_vae_tiling}, and the overlaps are cross-faded. Tiles are
 * {@value dev.sdjava.model.diffusion.VaeDecoder#DEFAULT_TILE_SIZE} px with at least
 * {@value dev.sdjava.model.diffusion.VaeDecoder#DEFAULT_TILE_OVERLAP} px of overlap, as diffusers' for SD 1.x.
 */
public enum VaeTiling {
    /**
     * Tiles only images larger than {@link #AUTO_MAX_WHOLE_PIXELS}: the models' native sizes decode whole, as
     * diffusers does by default.
     */
    AUTO("auto"),
    /** Always tiles (an image that fits in one tile is decoded whole all the same). */
    ON("on"),
    /** Never tiles. */
    OFF("off");

    /** 768x768, SD 2.x's native size and the largest of SD 1.x/2.x: {@link #AUTO} decodes larger images in tiles. */
    public static final int AUTO_MAX_WHOLE_PIXELS = 768 * 768;

    private final String id;

    VaeTiling(String id) {
        this.id = id;
    }

    /** The stable name: {@code auto}, {@code on} or {@code off}. */
    public String id() {
        return id;
    }

    /** Whether an image of {@code width x height} pixels is decoded in tiles. */
    public boolean tiles(int width, int height) {
        return switch (this) {
            case AUTO -> (long) width * height > AUTO_MAX_WHOLE_PIXELS;
            case ON -> true;
            case OFF -> false;
        };
    }

    /** The setting named {@code id} ({@code auto}, {@code on}, {@code off}). */
    public static VaeTiling of(String id) {
        for (VaeTiling t : values()) {
            if (t.id.equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("VAE tiling: expected auto, on or off, got \"" + id + "\"");
    }
}
