package dev.sdjava.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.tensor.Json;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** From prompt text to the U-Net's conditioning, in both checkpoint forms of both golden models. */
class StableDiffusionModelTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "tiny-sd1,              tiny-sd1,  49407, 1e-4, 1e-5",
        "tiny-sd1.safetensors,  tiny-sd1,  49407, 1e-2, 2e-3",
        "tiny-sd2v,             tiny-sd2v, 0,     1e-4, 1e-5",
        "tiny-sd2v.safetensors, tiny-sd2v, 0,     1e-4, 1e-5",
    })
    void promptsBecomeTheGoldenConditioning(String form, String model, int padId, double maxAbs, double relL2) throws IOException {
        List<?> prompts = (List<?>) ((Map<?, ?>) Json.read(TestData.cases(model).resolve("text_encoder.json"))).get("prompts");
        try (StableDiffusionModel sd = StableDiffusionModel.load(TestData.model(form), TestData.singleFileOptions());
             SafeTensors golden = SafeTensors.open(TestData.cases(model).resolve("text_encoder.safetensors"))) {
            assertEquals(padId, sd.tokenizer().padId());
            Tensor ids = golden.tensor("input_ids");
            Tensor states = golden.tensor("last_hidden_state");
            for (int p = 0; p < prompts.size(); p++) {
                int[] row = sd.tokenizer().encodeRow((String) prompts.get(p));
                int[] expected = new int[77];
                for (int i = 0; i < 77; i++) {
                    expected[i] = (int) ids.dtype().readLong(ids.data(), p * 77L + i);
                }
                assertArrayEquals(expected, row, "ids of prompt " + p);
                Closeness.of(sd.encodePrompt((String) prompts.get(p), 0), states.slice(p, p + 1))
                        .require(maxAbs, relL2, form + " prompt " + p);
            }
            assertEquals(sd.config().unet().crossAttentionDim(), sd.textEncoder().config().width());
        }
    }

    /** The networks are built from the right checkpoint and config: one U-Net call and one decode (README §5.3, §5.4). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "tiny-sd1,              tiny-sd1,  1e-4, 1e-5",
        "tiny-sd1.safetensors,  tiny-sd1,  4e-2, 4e-3",
        "tiny-sd2v,             tiny-sd2v, 1e-4, 1e-5",
        "tiny-sd2v.safetensors, tiny-sd2v, 1e-4, 1e-5",
    })
    void unetAndVaeAreReady(String form, String model, double maxAbs, double relL2) throws IOException {
        try (StableDiffusionModel sd = StableDiffusionModel.load(TestData.model(form), TestData.singleFileOptions());
             SafeTensors unet = SafeTensors.open(TestData.cases(model).resolve("unet.safetensors"));
             SafeTensors vae = SafeTensors.open(TestData.cases(model).resolve("vae.safetensors"))) {
            float[] out = new float[2 * 4 * 8 * 8];
            sd.unet().forward(unet.tensor("sample").toFloatArray(), 2, 8, 8, unet.tensor("timesteps_int64").toFloatArray(),
                    unet.tensor("encoder_hidden_states").toFloatArray(), 77, out);
            Closeness.of(out, unet.tensor("out")).require(maxAbs, relL2, form + " U-Net");
            float[] image = new float[3 * 64 * 64];
            sd.vaeDecoder().decode(vae.tensor("decode.latents").toFloatArray(), 1, 8, 8, image);
            Closeness.of(image, vae.tensor("decode.image")).require(maxAbs, relL2, form + " VAE decode");
        }
    }
}
