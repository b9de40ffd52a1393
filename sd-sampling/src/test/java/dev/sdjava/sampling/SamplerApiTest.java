package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.model.PredictionType;
import java.lang.reflect.Method;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The sampler API beyond the goldens: names, schedule combinations, errors, cancellation, allocation. */
class SamplerApiTest {
    private static final NoiseSchedule SD = NoiseSchedule.stableDiffusion();

    @Test
    void stableNamesRoundTrip() {
        assertEquals(SamplerKind.DPMPP_2M_SDE, SamplerKind.of("dpmpp_2m_sde"));
        assertEquals("euler_a", SamplerKind.EULER_A.id());
        for (SamplerKind k : SamplerKind.values()) {
            assertEquals(k, SamplerKind.of(k.id()));
        }
        for (ScheduleKind k : ScheduleKind.values()) {
            assertEquals(k, ScheduleKind.of(k.id()));
        }
        assertEquals("v_prediction", PredictionType.V_PREDICTION.diffusersName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SamplerKind.of("dpm++"));
        assertTrue(e.getMessage().contains("dpmpp_2m"), e.getMessage());
        // The samplers are written for ε and v: a model predicting x₀ is refused up front, by name.
        Schedule euler = Schedule.create(SD, SamplerKind.EULER, ScheduleKind.DEFAULT, 8);
        IllegalArgumentException sample = assertThrows(IllegalArgumentException.class, () -> Sampler.create(euler, PredictionType.SAMPLE, 16));
        assertTrue(sample.getMessage().contains("SAMPLE"), sample.getMessage());
    }

    @Test
    void badArgumentsAreRejectedWithTheirName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Schedule.create(SD, SamplerKind.EULER, ScheduleKind.DEFAULT, 0))
                .getMessage().contains("steps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Schedule.create(SD, SamplerKind.DDIM, ScheduleKind.KARRAS, 20))
                .getMessage().contains("ddim"));
        assertThrows(IllegalArgumentException.class, () -> Schedule.create(SD, SamplerKind.LCM, ScheduleKind.DEFAULT, 51));
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromConfig(1000, 0.00085, 0.012, "cosine", 1));
        assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.fromBetas(new float[] {0.1f, 1.0f}, 0));
        Schedule s = Schedule.create(SD, SamplerKind.EULER_A, ScheduleKind.DEFAULT, 8);
        assertThrows(IllegalArgumentException.class, () -> s.startIndex(0.0));
        assertThrows(IllegalArgumentException.class, () -> s.startIndex(1.5));
        assertThrows(IllegalArgumentException.class, () -> s.startIndex(0.1)); // int(0.8) = 0 steps left
        Sampler sampler = Sampler.create(s, PredictionType.EPSILON, 16);
        assertThrows(IllegalArgumentException.class, () -> sampler.sample((in, t, out) -> {}, new float[15], 0, new TorchGenerator(1), null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sampler.sample((in, t, out) -> {}, new float[16], 0, null, null));
        assertTrue(e.getMessage().contains("TorchGenerator"), e.getMessage());
    }

    @Test
    void explicitBetasGiveTheSameScheduleAsTheConfig() {
        NoiseSchedule fromBetas = NoiseSchedule.fromBetas(SD.betas(), 1);
        assertArrayEquals(SD.alphasCumprod(), fromBetas.alphasCumprod());
        assertArrayEquals(Schedule.create(SD, SamplerKind.EULER, ScheduleKind.DEFAULT, 9).sigmas(),
                Schedule.create(fromBetas, SamplerKind.EULER, ScheduleKind.DEFAULT, 9).sigmas());
    }

    @Test
    void strengthMapsToTheTimestepListIncludingHeunsDoubledEntries() {
        Schedule heun = Schedule.create(SD, SamplerKind.HEUN, ScheduleKind.DEFAULT, 8);
        assertEquals(15, heun.length());
        assertEquals(8, heun.startIndex(0.6)); // t_start 4, order 2
        assertEquals(0, heun.startIndex(1.0));
        Schedule pndm = Schedule.create(SD, SamplerKind.PNDM, ScheduleKind.DEFAULT, 8);
        assertEquals(501f, pndm.timestep(pndm.startIndex(0.6)));
    }

    @ParameterizedTest
    @EnumSource(value = SamplerKind.class, names = {"EULER", "EULER_A", "HEUN", "LMS", "DPMPP_2M", "DPMPP_2M_SDE"})
    void karrasAndExponentialSchedulesSpanTheTrainingRange(SamplerKind sampler) {
        for (ScheduleKind kind : new ScheduleKind[] {ScheduleKind.KARRAS, ScheduleKind.EXPONENTIAL}) {
            Schedule s = Schedule.create(SD, sampler, kind, 10);
            float[] sigmas = s.sigmas();
            float[] timesteps = s.timesteps();
            assertEquals(timesteps.length + 1, sigmas.length);
            assertEquals(SD.sigma(999), sigmas[0], Math.ulp(SD.sigma(999)));
            assertEquals(SD.sigma(0), sigmas[sigmas.length - 2], 1e-6f);
            assertEquals(0f, sigmas[sigmas.length - 1]);
            assertEquals(999f, timesteps[0], 1e-3f);
            assertEquals(0f, timesteps[timesteps.length - 1], 1e-3f);
            for (int i = 1; i < timesteps.length; i++) {
                assertTrue(sigmas[i] <= sigmas[i - 1], kind + " σ must not increase");
                assertTrue(timesteps[i] <= timesteps[i - 1], kind + " t must not increase");
            }
        }
        // Karras puts more steps at low noise than the default spacing does
        assertTrue(countBelowOne(Schedule.create(SD, sampler, ScheduleKind.KARRAS, 10).sigmas())
                > countBelowOne(Schedule.create(SD, sampler, ScheduleKind.DEFAULT, 10).sigmas()));
    }

    private static int countBelowOne(float[] sigmas) {
        int n = 0;
        for (float s : sigmas) {
            n += s < 1 ? 1 : 0;
        }
        return n;
    }

    @Test
    void karrasTimestepsOfDpmAreRoundedAndOthersFractional() {
        for (float t : Schedule.create(SD, SamplerKind.DPMPP_2M, ScheduleKind.KARRAS, 12).timesteps()) {
            assertEquals(Math.rint(t), t);
        }
        boolean fractional = false;
        for (float t : Schedule.create(SD, SamplerKind.EULER, ScheduleKind.KARRAS, 12).timesteps()) {
            fractional |= t != Math.rint(t);
        }
        assertTrue(fractional);
    }

    @Test
    void aListenerCanCancelARun() {
        Schedule s = Schedule.create(SD, SamplerKind.DPMPP_2M, ScheduleKind.KARRAS, 20);
        Sampler sampler = Sampler.create(s, PredictionType.EPSILON, 64);
        int[] calls = {0};
        assertThrows(CancellationException.class, () -> sampler.sample((in, t, out) -> calls[0]++, new float[64], 0, null, (step, total) -> {
            if (step == 3) {
                throw new CancellationException();
            }
        }));
        assertEquals(3, calls[0]);
    }

    @Test
    void sameSeedSameLatents() {
        Schedule s = Schedule.create(SD, SamplerKind.EULER_A, ScheduleKind.DEFAULT, 6);
        float[][] results = new float[2][];
        for (int r = 0; r < 2; r++) {
            TorchGenerator g = new TorchGenerator(1234);
            float[] x = g.randn(1, 4, 8, 8);
            Sampler.create(s, PredictionType.EPSILON, x.length).sample((in, t, out) -> {
                for (int k = 0; k < in.length; k++) {
                    out[k] = 0.5f * in[k];
                }
            }, x, 0, g, null);
            results[r] = x;
        }
        assertArrayEquals(results[0], results[1]);
    }

    /** A run allocates nothing per step: only the sampler's construction does. */
    @ParameterizedTest
    @EnumSource(SamplerKind.class)
    void theSamplingLoopDoesNotAllocate(SamplerKind kind) {
        ScheduleKind sk = kind.usesSigmas() ? ScheduleKind.KARRAS : ScheduleKind.DEFAULT;
        Schedule s = Schedule.create(SD, kind, sk, 30);
        int n = 4 * 64 * 64;
        Sampler sampler = Sampler.create(s, PredictionType.V_PREDICTION, n);
        float[] x = new float[n];
        TorchGenerator g = new TorchGenerator(7);
        Denoiser model = (in, t, out) -> {
            for (int k = 0; k < in.length; k++) {
                out[k] = 0.1f * in[k];
            }
        };
        StepListener listener = (step, total) -> {};
        sampler.sample(model, x, 0, g, listener); // warm-up (class loading, JIT)
        long before = allocatedBytes();
        sampler.sample(model, x, 0, g, listener);
        long allocated = allocatedBytes() - before;
        // one float[n] would be 64 KiB; allow for a few small objects outside the loop
        assertTrue(allocated < 4096, kind + " allocated " + allocated + " bytes in a 30-step run");
    }

    /**
     * This thread's allocation counter (HotSpot's ThreadMXBean), through reflection because the
     * test sources compile inside this module, which does not read java.management.
     */
    private static long allocatedBytes() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            Method counter = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
            return (long) counter.invoke(bean);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no per-thread allocation counter in this JVM", e);
        }
    }
}
