package dev.sdjava.sampling;

import static dev.sdjava.sampling.SchedulerGoldenTest.assertBitsEqual;
import static dev.sdjava.sampling.SchedulerGoldenTest.assertClose;
import static dev.sdjava.sampling.SchedulerGoldenTest.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.model.PredictionType;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sampler side of img2img (cases/<model>/img2img, README §12), without a VAE: strength →
 * start index (PNDM's quirk included), add_noise, the random draws in order, and every step of
 * the shortened run from the stored guided model outputs.
 */
class Img2ImgGoldenTest {
    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (String model : List.of("tiny-sd1", "tiny-sd2v")) {
            String defaultSampler = model.equals("tiny-sd1") ? "pndm" : "ddim";
            for (String sampler : List.of(defaultSampler, "euler_a", "dpmpp_2m_karras")) {
                for (String strength : List.of("0.3", "0.6")) {
                    list.add(Arguments.of(model, sampler, strength));
                }
            }
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1} strength {2}")
    @MethodSource("cases")
    void samplerPartOfImg2Img(String model, String samplerName, String strengthText) {
        Golden g = Golden.load(model + "/img2img/" + samplerName + "_strength" + strengthText);
        String what = model + " " + samplerName + " " + strengthText;
        NoiseSchedule ns = NoiseSchedule.fromConfig(
                ((Number) g.at("scheduler_config", "num_train_timesteps")).intValue(),
                ((Number) g.at("scheduler_config", "beta_start")).doubleValue(),
                ((Number) g.at("scheduler_config", "beta_end")).doubleValue(),
                (String) g.at("scheduler_config", "beta_schedule"),
                ((Number) g.at("scheduler_config", "steps_offset")).intValue());
        PredictionType prediction = Golden.prediction((String) g.at("scheduler_config", "prediction_type"));
        SamplerKind kind = switch (samplerName) {
            case "pndm" -> SamplerKind.PNDM;
            case "ddim" -> SamplerKind.DDIM;
            case "euler_a" -> SamplerKind.EULER_A;
            default -> SamplerKind.DPMPP_2M;
        };
        ScheduleKind scheduleKind = samplerName.endsWith("karras") ? ScheduleKind.KARRAS : ScheduleKind.DEFAULT;
        int steps = ((Number) g.at("num_inference_steps")).intValue();
        Schedule schedule = Schedule.create(ns, kind, scheduleKind, steps);
        assertBitsEqual(floats(g.at("strength_mapping", "full_timesteps")), schedule.timesteps(), what + " full timesteps");

        // strength → the first evaluation of the run
        int start = schedule.startIndex(((Number) g.at("strength")).doubleValue());
        float[] run = floats(g.at("strength_mapping", "timesteps_run"));
        assertEquals(((Number) g.at("strength_mapping", "n_unet_evaluations")).intValue(), schedule.length() - start, what + " evaluations");
        for (int j = 0; j < run.length; j++) {
            assertEquals(run[j], schedule.timestep(start + j), what + " run timestep " + j);
        }

        // the generator's draws in order: VAE sample, start noise, then one per ancestral step
        TorchGenerator generator = new TorchGenerator(5005);
        float[] initLatents = g.f("init_latents");
        int n = initLatents.length;
        float[] draw = new float[n];
        generator.randn(draw);
        assertBitsEqual(g.f("vae_sample_noise"), draw, what + " vae_sample_noise");
        float[] startNoise = new float[n];
        generator.randn(startNoise);
        assertBitsEqual(g.f("start_noise"), startNoise, what + " start_noise");

        Sampler sampler = Sampler.create(schedule, prediction, n);
        float[] x = new float[n];
        sampler.addNoise(start, initLatents, startNoise, x);
        assertClose(g.f("noisy_latents"), x, what + " noisy_latents");

        // the run, one step at a time from the stored guided outputs (the UNet batch is [uncond, cond])
        float[] input = new float[n];
        sampler.reset();
        for (int j = 0; j < run.length; j++) {
            int i = start + j;
            float[] unetInput = g.row("unet_input", j);
            float[] firstHalf = new float[n];
            System.arraycopy(unetInput, 0, firstHalf, 0, n);
            sampler.scaleModelInput(i, x, input);
            assertClose(firstHalf, input, what + " unet_input " + j);
            sampler.step(i, g.row("noise_pred", j), x, generator);
            if (g.has("step_noise")) {
                assertBitsEqual(g.row("step_noise", j), sampler.noise, what + " step_noise " + j);
            }
            assertClose(g.row("step_latents", j), x, what + " step_latents " + j);
            x = g.row("step_latents", j);
        }

        // the same run through the public loop, replaying the stored outputs: same draws, same end
        TorchGenerator replayGenerator = new TorchGenerator(5005);
        replayGenerator.randn(draw);
        replayGenerator.randn(draw);
        float[] latents = g.f("noisy_latents");
        int[] calls = {0};
        sampler.sample((in, t, out) -> {
            assertEquals(run[calls[0]], t, what + " replay timestep");
            System.arraycopy(g.row("noise_pred", calls[0]++), 0, out, 0, n);
        }, latents, start, replayGenerator, (step, total) -> assertEquals(run.length, total));
        assertEquals(run.length, calls[0]);
        assertClose(g.f("final_latents"), latents, what + " final_latents");
    }
}
