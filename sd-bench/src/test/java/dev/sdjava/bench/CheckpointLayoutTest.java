package dev.sdjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.tensor.SafeTensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class CheckpointLayoutTest {
    /** tiny-sd1 of the golden set (README §3): SD 1.5's topology at tiny widths. */
    static final SdArchitecture TINY_SD1 = new SdArchitecture(new int[] {32, 64, 64, 64}, 2, 2, 32,
            new int[] {32, 32, 64, 64}, 2, 4, 32, 3, 4, 64, 49408, 77);

    @Test
    void tinyWidthsGiveExactlyTheGoldenSingleFileKeysAndShapes() throws Exception {
        Path file = Path.of(System.getProperty("sd.testdata"), "golden/models/tiny-sd1.safetensors");
        Map<String, String> expected = new TreeMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String name : st.names()) {
                expected.put(name, Arrays.toString(st.tensor(name).shape()));
            }
        }
        Map<String, String> actual = new TreeMap<>();
        CheckpointLayout.of(TINY_SD1).forEach((name, shape) -> actual.put(name, Arrays.toString(shape)));
        assertEquals(expected, actual);
    }

    @Test
    void sd15HasTheThreeShortcutsTinyOmitsAndAbout1point07BillionParameters() {
        var layout = CheckpointLayout.of(SdArchitecture.SD15);
        // The three shortcuts golden README §3 lists as present in real SD 1.5 only.
        assertTrue(layout.containsKey("model.diffusion_model.input_blocks.7.0.skip_connection.weight"));
        assertTrue(layout.containsKey("first_stage_model.encoder.down.1.block.0.nin_shortcut.weight"));
        assertTrue(layout.containsKey("first_stage_model.decoder.up.0.block.0.nin_shortcut.weight"));
        // tiny-sd1's 980 tensors, the three shortcuts (weight and bias), nine more CLIP layers of 16 tensors.
        assertEquals(980 + 3 * 2 + 9 * 16, layout.size());
        // Published sizes: U-Net 859.52 M, VAE 83.65 M, CLIP ViT-L/14 text tower 123.06 M parameters.
        assertEquals(859_520_964L + 83_653_863L + 123_060_480L, CheckpointLayout.parameters(layout));
    }
}
