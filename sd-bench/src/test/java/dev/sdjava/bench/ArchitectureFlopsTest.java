package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ArchitectureFlopsTest {
    private static final SdArchitecture SD15 = SdArchitecture.SD15;

    @Test
    void guidedUnetStepAt512IsAbout1point61Tflop() {
        // The count PyTorch's FLOP counter gives for SD 1.5 (the figure the README's comparison uses).
        assertEquals(1.61e12, ArchitectureFlops.unet(SD15, 2, 64, 64).total(), 0.02e12);
    }

    @Test
    void vaeDecodeTo512IsAbout2point51Tflop() {
        assertEquals(2.51e12, ArchitectureFlops.vaeDecode(SD15, 64, 64).total(), 0.03e12);
    }

    @Test
    void countsScaleWithBatchAndConvolutionsWithPixels() {
        var one = ArchitectureFlops.unet(SD15, 1, 64, 64);
        var two = ArchitectureFlops.unet(SD15, 2, 64, 64);
        assertEquals(2 * one.total(), two.total(), 1e-6 * two.total());
        // Convolutions are linear in the pixel count; attention is quadratic in the first levels.
        var quarter = ArchitectureFlops.unet(SD15, 1, 32, 32);
        assertEquals(one.of("conv") / 4, quarter.of("conv"), 1e-6 * one.of("conv"));
        assertEquals(ArchitectureFlops.vaeDecode(SD15, 32, 32).of("conv") * 4,
                ArchitectureFlops.vaeDecode(SD15, 64, 64).of("conv"), 1e-3);
    }

    @Test
    void breakdownAddsUpToTotal() {
        var c = ArchitectureFlops.unet(SD15, 2, 64, 64);
        double sum = c.of("conv") + c.of("linear") + c.of("attention") + c.of("norm");
        assertEquals(c.total(), sum, 1e-9 * sum);
    }
}
