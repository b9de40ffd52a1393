package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngFilesTest {
    @TempDir
    Path dir;

    @Test
    void parametersSurviveARoundTripInLatin1AndUtf8() throws Exception {
        BufferedImage image = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        image.setRGB(1, 1, 0x123456);
        for (String text : new String[] {"a cat\nNegative prompt: dog\nSteps: 20, Seed: 42", "一只猫 🐱\nSteps: 4"}) {
            Path file = dir.resolve("out.png");
            PngFiles.write(image, text, file);
            assertEquals(text, PngFiles.readParameters(file).orElseThrow());
            assertEquals(0x123456, ImageIO.read(file.toFile()).getRGB(1, 1) & 0xffffff);
        }
    }

    @Test
    void theImageGetsThePermissionsOfAnyNewFileNotOwnerOnly() throws Exception {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions only");
        Path plain = Files.createFile(dir.resolve("plain"));
        Path png = dir.resolve("out.png");
        PngFiles.write(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), "x", png);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(png));
        try (var left = Files.list(dir)) {
            assertEquals(2, left.count(), "no temporary file left behind");
        }
    }

    @Test
    void decodedValuesRoundHalfToEvenAfterClamping() {
        assertEquals(0, Images.toUint8(-3f));
        assertEquals(255, Images.toUint8(1.5f));
        // x/2+0.5 = 0.5 exactly -> 127.5 -> 128 (even)
        assertEquals(128, Images.toUint8(0f));
        float[] back = Images.toTensor(Images.toImage(new float[] {-1f, 0f, 1f}, 0, 1, 1));
        assertEquals(-1f, back[0]);
        assertEquals(1f, back[2]);
    }
}
