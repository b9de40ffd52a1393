package dev.sdjava.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.sampling.PngFiles;
import dev.sdjava.tensor.SafeTensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code ./sd txt2img / img2img}: golden reproduction through the command line, and one clear error per mistake. */
class GenerateTest {
    private static final Path CASES = InspectTest.MODELS.resolveSibling("cases");
    private static final String PROMPT = "a photograph of an astronaut riding a horse, (masterpiece:1.2), [blurry]";
    private static final String NEGATIVE = "lowres, bad anatomy, watermark";

    @TempDir
    Path dir;

    @Test
    void latentsInAndOutReproduceDiffusers() throws IOException {
        Path golden = CASES.resolve("tiny-sd1/pipeline/pndm_64x64.safetensors");
        Path latentsIn = dir.resolve("in.safetensors");
        try (SafeTensors g = SafeTensors.open(golden)) {
            SafeTensors.write(latentsIn, Map.of("latents", g.tensor("latents_in")), Map.of());
        }
        Path png = dir.resolve("out.png");
        Path latentsOut = dir.resolve("out.safetensors");
        InspectTest.Result r = InspectTest.sd("txt2img", "--model", InspectTest.MODELS.resolve("tiny-sd1").toString(),
                "--prompt", PROMPT, "--negative", NEGATIVE, "--steps", "8", "--cfg", "7.5", "--sampler", "pndm",
                "--seed", "5005", "--prompt-syntax", "literal", "--latents-in", latentsIn.toString(),
                "--latents-out", latentsOut.toString(), "-o", png.toString());
        assertEquals(0, r.status(), r.err());
        assertMatches(golden, latentsOut, png);
        String parameters = PngFiles.readParameters(png).orElseThrow();
        assertTrue(parameters.startsWith(PROMPT + "\nNegative prompt: " + NEGATIVE + "\nSteps: 8, Sampler: PLMS, "), parameters);
        assertTrue(parameters.contains("CFG scale: 7.5, Seed: 5005, Size: 64x64, Model: tiny-sd1"), parameters);
    }

    @Test
    void aSeedAloneReproducesDiffusersRandomLatents() throws IOException {
        Path png = dir.resolve("seeded.png");
        Path latentsOut = dir.resolve("seeded.safetensors");
        InspectTest.Result r = InspectTest.sd("txt2img", "--model", InspectTest.MODELS.resolve("tiny-sd1").toString(),
                "--prompt", PROMPT, "--negative", NEGATIVE, "--steps", "8", "--sampler", "euler_a", "--seed", "5005",
                "--width", "64", "--height", "64", "--prompt-syntax", "literal", "--latents-out", latentsOut.toString(),
                "-o", png.toString());
        assertEquals(0, r.status(), r.err());
        assertMatches(CASES.resolve("tiny-sd1/pipeline/euler_a_64x64_seeded_no_latents.safetensors"), latentsOut, png);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "--width 100|width must be a multiple of 8",
            "--steps 0|steps must be between 1 and 1000",
            "--sampler warp|unknown sampler \"warp\"",
            "--model /no/such/model.safetensors|/no/such/model.safetensors",
            "--cfg lots|--cfg: expected a number",
            "--frobnicate 1|unknown flag \"--frobnicate\"",
            "--vae-tiling sometimes|VAE tiling: expected auto, on or off, got \"sometimes\"",
    })
    void badTxt2imgParametersGiveOneClearError(String flags, String message) {
        String[] extra = flags.split(" ");
        String[] args = new String[3 + extra.length];
        args[0] = "txt2img";
        args[1] = "--prompt";
        args[2] = "a cat";
        System.arraycopy(extra, 0, args, 3, extra.length);
        InspectTest.Result r = InspectTest.sd(args);
        assertTrue(r.status() != 0, "exit status");
        assertTrue(r.err().lines().findFirst().orElse("").contains(message), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void strengthOutsideItsRangeIsRefused() throws IOException {
        Path image = dir.resolve("in.png");
        ImageIO.write(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "png", image.toFile());
        InspectTest.Result r = InspectTest.sd("img2img", "--prompt", "a cat", "--init-image", image.toString(), "--strength", "1.5");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().startsWith("sd img2img: strength must be in (0, 1], got 1.5"), r.err());
        r = InspectTest.sd("img2img", "--prompt", "a cat", "--init-image", dir.resolve("missing.png").toString());
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("missing.png"), r.err());
    }

    /** Final latents within rel L2 1e-4 of diffusers', the PNG within one 8-bit level. */
    private static void assertMatches(Path golden, Path latentsOut, Path png) throws IOException {
        try (SafeTensors g = SafeTensors.open(golden); SafeTensors got = SafeTensors.open(latentsOut)) {
            float[] want = g.tensor("final_latents").toFloatArray();
            float[] have = got.tensor("latents").toFloatArray();
            double num = 0;
            double den = 0;
            for (int i = 0; i < want.length; i++) {
                num += (have[i] - want[i]) * (double) (have[i] - want[i]);
                den += want[i] * (double) want[i];
            }
            assertTrue(Math.sqrt(num / den) <= 1e-4, "final latents rel L2 " + Math.sqrt(num / den));
            float[] pixels = g.tensor("image_uint8").toFloatArray(); // NHWC
            BufferedImage image = ImageIO.read(png.toFile());
            for (int p = 0; p < pixels.length / 3; p++) {
                int rgb = image.getRGB(p % 64, p / 64);
                int[] channels = {rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff};
                for (int c = 0; c < 3; c++) {
                    assertTrue(Math.abs(channels[c] - (int) pixels[3 * p + c]) <= 1, "pixel " + p + " channel " + c);
                }
            }
        }
        assertTrue(Files.size(png) > 0);
    }
}
