package dev.sdjava.model;

import java.util.Arrays;

/**
 * How many attention heads each U-Net level uses. Heads are not in the weights: they come from the
 * diffusers {@code unet/config.json} ({@code attention_head_dim}, which despite its name is the number
 * of heads per down block), from an LDM yaml ({@code num_heads} or {@code num_head_channels}), or from
 * the family's default (SD 1.x: 8 heads; SD 2.x: head size 64).
 *
 * <p>Exactly one of the two forms is set: a head count per down level (the mid block uses the last
 * entry, up level {@code i} uses entry {@code levels - 1 - i}), or a constant head size.
 */
public record AttentionHeads(int[] headsPerLevel, int headDim) {

    public AttentionHeads {
        if ((headsPerLevel == null) == (headDim <= 0)) {
            throw new IllegalArgumentException("give either heads per level or a head size, not both or neither");
        }
        headsPerLevel = headsPerLevel == null ? null : headsPerLevel.clone();
    }

    /** Fixed head counts per down level (one value: the same for every level). */
    public static AttentionHeads perLevel(int... heads) {
        return new AttentionHeads(heads, 0);
    }

    /** A constant head size; the head count is the level's width divided by it. */
    public static AttentionHeads ofHeadDim(int headDim) {
        return new AttentionHeads(null, headDim);
    }

    /** Heads for an attention of {@code channels} width at down level {@code level} (0 = full resolution). */
    public int heads(int level, int channels) {
        if (headsPerLevel != null) {
            return headsPerLevel[Math.min(level, headsPerLevel.length - 1)];
        }
        if (channels % headDim != 0) {
            throw new IllegalArgumentException("attention width " + channels + " is not a multiple of head size " + headDim);
        }
        return channels / headDim;
    }

    @Override
    public int[] headsPerLevel() {
        return headsPerLevel == null ? null : headsPerLevel.clone();
    }

    @Override
    public String toString() {
        return headsPerLevel != null ? "heads " + Arrays.toString(headsPerLevel) : "head size " + headDim;
    }
}
