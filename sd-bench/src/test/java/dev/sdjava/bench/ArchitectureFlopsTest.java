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

    /**
     * The e2e sizes 256, 512, 768 (latents 32, 64, 96): convolutions grow with the pixel count, the VAE's
     * one-head self-attention with its square, and the U-Net's attention is self-attention (quadratic in the
     * tokens) plus cross-attention to the 77 text tokens (linear): a quadratic through the counts at 256 and
     * 512 must give the count at 768.
     */
    @Test
    void countsAtTheBenchSizesGrowLinearlyOrQuadraticallyInTokens() {
        double s1 = 32 * 32, s2 = 64 * 64, s3 = 96 * 96;
        var u1 = ArchitectureFlops.unet(SD15, 1, 32, 32);
        var u2 = ArchitectureFlops.unet(SD15, 1, 64, 64);
        var u3 = ArchitectureFlops.unet(SD15, 1, 96, 96);
        assertEquals(u2.of("conv") * s3 / s2, u3.of("conv"), 1e-9 * u3.of("conv"));
        double a = (u2.of("attention") / s2 - u1.of("attention") / s1) / (s2 - s1); // f(s) = a·s² + b·s
        double b = u1.of("attention") / s1 - a * s1;
        assertEquals(a * s3 * s3 + b * s3, u3.of("attention"), 1e-9 * u3.of("attention"));
        assertEquals(true, a > 0 && b > 0, "both self- and cross-attention counted");
        var v2 = ArchitectureFlops.vaeDecode(SD15, 64, 64);
        var v3 = ArchitectureFlops.vaeDecode(SD15, 96, 96);
        assertEquals(v2.of("attention") * (s3 / s2) * (s3 / s2), v3.of("attention"), 1e-9 * v3.of("attention"));
        assertEquals(v2.of("conv") * s3 / s2, v3.of("conv"), 1e-9 * v3.of("conv"));
        var e2 = ArchitectureFlops.vaeEncode(SD15, 512, 512);
        var e1 = ArchitectureFlops.vaeEncode(SD15, 256, 256);
        assertEquals(e2.of("conv") / 4, e1.of("conv"), 1e-9 * e2.of("conv"));
    }

    @Test
    void breakdownAddsUpToTotal() {
        var c = ArchitectureFlops.unet(SD15, 2, 64, 64);
        double sum = c.of("conv") + c.of("linear") + c.of("attention") + c.of("norm");
        assertEquals(c.total(), sum, 1e-9 * sum);
    }
}
