package dev.sdjava.model.text;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.Checkpoint;
import dev.sdjava.model.Closeness;
import dev.sdjava.model.TestData;
import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The text encoder against diffusers' states for the four golden prompts (README §5.2). */
class ClipTextEncoderTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // form, model, max abs, rel L2: the folders and tiny-sd2v hold the golden fp32 weights (README §9);
        // tiny-sd1.safetensors holds them rounded to fp16 (measured rel L2 6.9e-4, tolerances.json).
        "tiny-sd1,              tiny-sd1,  1e-4, 1e-5",
        "tiny-sd1.safetensors,  tiny-sd1,  1e-2, 2e-3",
        "tiny-sd2v,             tiny-sd2v, 1e-4, 1e-5",
        "tiny-sd2v.safetensors, tiny-sd2v, 1e-4, 1e-5",
    })
    void matchesTheGoldenStates(String form, String model, double maxAbs, double relL2) throws IOException {
        try (Checkpoint cp = Checkpoint.open(TestData.model(form), TestData.singleFileOptions());
             SafeTensors golden = SafeTensors.open(TestData.cases(model).resolve("text_encoder.safetensors"))) {
            ClipTextEncoder encoder = new ClipTextEncoder(cp.textEncoder(), cp.config().textEncoder());
            Tensor idsTensor = golden.tensor("input_ids");
            int batch = (int) idsTensor.dim(0);
            int[] ids = new int[(int) idsTensor.numel()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (int) idsTensor.dtype().readLong(idsTensor.data(), i);
            }

            float[] last = encoder.encode(ids, batch, 0);
            Closeness.of(last, golden.tensor("last_hidden_state")).require(maxAbs, relL2, form + " last_hidden_state");
            float[] skipped = encoder.encode(ids, batch, 1);
            Closeness.of(skipped, golden.tensor("penultimate_final_ln")).require(maxAbs, relL2, form + " clip skip 1");
            // The buffers are reused: a second call with another batch size must give the same rows.
            float[] single = encoder.encode(java.util.Arrays.copyOf(ids, 77), 1, 0);
            Closeness.of(single, golden.tensor("last_hidden_state").slice(0, 1)).require(maxAbs, relL2, form + " batch 1");

            if (golden.contains("WRONG_all_stored_openclip_blocks_ln_final")) {
                Closeness wrong = Closeness.of(last, golden.tensor("WRONG_all_stored_openclip_blocks_ln_final"));
                assertTrue(wrong.relL2() > 0.1, form + " must run the penultimate OpenCLIP block, not all: rel L2 to the wrong states " + wrong);
            }
        }
    }

    @Test
    void rejectsBadInput() {
        try (Checkpoint cp = Checkpoint.open(TestData.model("tiny-sd1"))) {
            ClipTextEncoder encoder = new ClipTextEncoder(cp.textEncoder(), cp.config().textEncoder());
            assertThrows(IllegalArgumentException.class, () -> encoder.encode(new int[78], 1, 0));
            assertThrows(IllegalArgumentException.class, () -> encoder.encode(new int[] {49408}, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> encoder.encode(new int[77], 1, 3));
            assertThrows(IllegalArgumentException.class, () -> encoder.encode(new int[77], 2, 0));
        }
    }
}
