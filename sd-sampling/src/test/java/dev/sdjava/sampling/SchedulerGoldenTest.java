package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.sdjava.model.PredictionType;
import dev.sdjava.tensor.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scheduler golden (cases/<model>/schedulers, README §6): the timestep/σ tables for N = 1,
 * 4, 20, 50, and the N = 4 and N = 20 traces, both one step at a time from the stored model
 * outputs and as a whole loop over the fake model (whose noise must equal the recorded draws).
 */
class SchedulerGoldenTest {
    static final double ABS = 1e-5;
    static final double REL = 1e-6;

    /** Golden variant name → (sampler, schedule). */
    static final Map<String, Object[]> VARIANTS = Map.ofEntries(
            Map.entry("ddim", new Object[] {SamplerKind.DDIM, ScheduleKind.DEFAULT}),
            Map.entry("pndm", new Object[] {SamplerKind.PNDM, ScheduleKind.DEFAULT}),
            Map.entry("euler", new Object[] {SamplerKind.EULER, ScheduleKind.DEFAULT}),
            Map.entry("euler_ancestral", new Object[] {SamplerKind.EULER_A, ScheduleKind.DEFAULT}),
            Map.entry("heun", new Object[] {SamplerKind.HEUN, ScheduleKind.DEFAULT}),
            Map.entry("lms", new Object[] {SamplerKind.LMS, ScheduleKind.DEFAULT}),
            Map.entry("lcm", new Object[] {SamplerKind.LCM, ScheduleKind.DEFAULT}),
            Map.entry("dpmpp_2m", new Object[] {SamplerKind.DPMPP_2M, ScheduleKind.DEFAULT}),
            Map.entry("dpmpp_2m_karras", new Object[] {SamplerKind.DPMPP_2M, ScheduleKind.KARRAS}),
            Map.entry("dpmpp_2m_sde", new Object[] {SamplerKind.DPMPP_2M_SDE, ScheduleKind.DEFAULT}),
            Map.entry("dpmpp_2m_sde_karras", new Object[] {SamplerKind.DPMPP_2M_SDE, ScheduleKind.KARRAS}));

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (String model : List.of("tiny-sd1", "tiny-sd2v")) {
            for (String variant : VARIANTS.keySet().stream().sorted().toList()) {
                list.add(Arguments.of(model, variant));
            }
        }
        return list.stream();
    }

    /** The model's noise schedule from the resolved diffusers config in a sidecar. */
    static NoiseSchedule noiseSchedule(Golden g) {
        return NoiseSchedule.fromConfig(
                ((Number) g.at("config", "num_train_timesteps")).intValue(),
                ((Number) g.at("config", "beta_start")).doubleValue(),
                ((Number) g.at("config", "beta_end")).doubleValue(),
                (String) g.at("config", "beta_schedule"),
                ((Number) g.at("config", "steps_offset")).intValue());
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            double diff = Math.abs((double) expected[k] - actual[k]);
            if (!(diff <= ABS + REL * Math.abs(expected[k]))) {
                throw new AssertionError(what + "[" + k + "]: expected " + expected[k] + " but was " + actual[k]);
            }
        }
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            if (Float.floatToRawIntBits(expected[k]) != Float.floatToRawIntBits(actual[k])) {
                throw new AssertionError(what + "[" + k + "]: expected " + expected[k] + " but was " + actual[k]);
            }
        }
    }

    /**
     * σ tables: the reference's σ = ((1−ᾱ)/ᾱ)^0.5 differs from the correctly rounded float32
     * square root we compute in the last bit for about one training timestep in six (its float32
     * pow is not exactly rounded); everything derived from it stays within the trace tolerances.
     */
    static void assertWithinOneUlp(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int k = 0; k < expected.length; k++) {
            if (Math.abs(expected[k] - actual[k]) > Math.ulp(expected[k])) {
                throw new AssertionError(what + "[" + k + "]: expected " + expected[k] + " but was " + actual[k]);
            }
        }
    }

    static float[] floats(Object jsonList) {
        double[] d = Golden.doubles(jsonList);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** The fake model of README §6: 0.3·input + c·fixed, c = float(0.1·cos(t/100)). */
    static Denoiser fakeModel(float[] fixed) {
        return (input, t, output) -> {
            float c = (float) (0.1 * Math.cos((double) t / 100));
            for (int k = 0; k < input.length; k++) {
                output[k] = 0.3f * input[k] + c * fixed[k];
            }
        };
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void trainingScheduleIsBitExact(String model, String variant) {
        Golden g = Golden.load(model + "/schedulers/" + variant);
        NoiseSchedule ns = noiseSchedule(g);
        assertBitsEqual(g.f("betas"), ns.betas(), "betas");
        assertBitsEqual(g.f("alphas_cumprod"), ns.alphasCumprod(), "alphas_cumprod");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void timestepAndSigmaTablesMatch(String model, String variant) {
        Golden g = Golden.load(model + "/schedulers/" + variant);
        NoiseSchedule ns = noiseSchedule(g);
        Object[] kinds = VARIANTS.get(variant);
        for (String n : List.of("1", "4", "20", "50")) {
            Schedule s = Schedule.create(ns, (SamplerKind) kinds[0], (ScheduleKind) kinds[1], Integer.parseInt(n));
            String what = model + " " + variant + " N=" + n;
            assertBitsEqual(floats(g.at("tables", n, "timesteps")), s.timesteps(), what + " timesteps");
            Object sigmas = g.at("tables", n, "sigmas");
            if (sigmas == Json.NULL) {
                assertNull(s.sigmas(), what + " sigmas");
            } else {
                assertWithinOneUlp(floats(sigmas), s.sigmas(), what + " sigmas");
            }
            assertWithinOneUlp(new float[] {(float) ((Number) g.at("tables", n, "init_noise_sigma")).doubleValue()},
                    new float[] {s.initNoiseSigma()}, what + " init_noise_sigma");
            assertEquals(((Number) g.at("tables", n, "n_model_evaluations")).intValue(), s.length(), what + " evaluations");
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void singleStepsFromStoredModelOutputs(String model, String variant) {
        Golden g = Golden.load(model + "/schedulers/" + variant);
        for (String n : List.of("4", "20")) {
            Sampler sampler = samplerFor(g, variant, Integer.parseInt(n));
            Schedule s = sampler.schedule();
            String p = "N" + n + ".";
            TorchGenerator generator = new TorchGenerator(4004);
            float[] x = initialLatents(g, s);
            float[] input = new float[x.length];
            sampler.reset();
            for (int i = 0; i < s.length(); i++) {
                String what = model + " " + variant + " " + p + " step " + i;
                sampler.scaleModelInput(i, x, input);
                assertClose(g.row(p + "model_input", i), input, what + " model_input");
                sampler.step(i, g.row(p + "model_output", i), x, generator);
                checkStepOutputs(g, sampler, p, i, what);
                assertClose(g.row(p + "prev_sample", i), x, what + " prev_sample");
                x = g.row(p + "prev_sample", i); // the next step starts from the reference
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void wholeLoopWithTheFakeModel(String model, String variant) {
        Golden g = Golden.load(model + "/schedulers/" + variant);
        for (String n : List.of("4", "20")) {
            Sampler sampler = samplerFor(g, variant, Integer.parseInt(n));
            Schedule s = sampler.schedule();
            String p = "N" + n + ".";
            float[] x = initialLatents(g, s);
            Denoiser fake = fakeModel(g.f("fixed_tensor"));
            int[] calls = {0};
            Denoiser checked = (input, t, output) -> {
                int i = calls[0];
                assertEquals(s.timestep(i), t, "timestep " + i);
                assertClose(g.row(p + "model_input", i), input, model + " " + variant + " " + p + " loop model_input " + i);
                fake.predict(input, t, output);
                calls[0]++;
            };
            float[] latents = x;
            sampler.sample(checked, latents, 0, new TorchGenerator(4004), (step, total) -> {
                String what = model + " " + variant + " " + p + " loop step " + (step - 1);
                assertEquals(s.length(), total);
                checkStepOutputs(g, sampler, p, step - 1, what);
                assertClose(g.row(p + "prev_sample", step - 1), latents, what + " prev_sample");
            });
            assertEquals(s.length(), calls[0]);
        }
    }

    private static Sampler samplerFor(Golden g, String variant, int steps) {
        Object[] kinds = VARIANTS.get(variant);
        Schedule s = Schedule.create(noiseSchedule(g), (SamplerKind) kinds[0], (ScheduleKind) kinds[1], steps);
        PredictionType prediction = Golden.prediction((String) g.at("prediction_type"));
        return Sampler.create(s, prediction, g.f("x_T").length);
    }

    private static float[] initialLatents(Golden g, Schedule s) {
        float[] x = g.f("x_T");
        for (int k = 0; k < x.length; k++) {
            x[k] = x[k] * s.initNoiseSigma();
        }
        return x;
    }

    /** x₀ and the drawn noise of step i, where the golden has them (noise bit-exact: it is the RNG order). */
    private static void checkStepOutputs(Golden g, Sampler sampler, String p, int i, String what) {
        if (g.has(p + "pred_original_sample")) {
            assertClose(g.row(p + "pred_original_sample", i), sampler.denoised, what + " pred_original_sample");
        }
        if (g.has(p + "noise")) {
            long rows = g.shape(p + "noise")[0];
            if (i < rows) {
                assertNotNull(sampler.noise, what + " noise buffer");
                assertBitsEqual(g.row(p + "noise", i), sampler.noise, what + " noise");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void everyVariantIsCovered() {
        assertArrayEquals(VARIANTS.keySet().stream().sorted().toArray(), List.of("ddim", "dpmpp_2m", "dpmpp_2m_karras", "dpmpp_2m_sde",
                "dpmpp_2m_sde_karras", "euler", "euler_ancestral", "heun", "lcm", "lms", "pndm").toArray());
    }
}
