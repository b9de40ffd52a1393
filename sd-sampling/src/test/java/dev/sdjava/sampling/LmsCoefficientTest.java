package dev.sdjava.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.sdjava.model.PredictionType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LMS's integrated Lagrange coefficients against the ones diffusers used (lms.json, README §6). */
class LmsCoefficientTest {
    @Test
    void coefficientsMatchTheReferenceQuadrature() {
        Golden g = Golden.load("tiny-sd1/schedulers/lms");
        for (int n : new int[] {4, 20}) {
            Schedule s = Schedule.create(SchedulerGoldenTest.noiseSchedule(g), SamplerKind.LMS, ScheduleKind.DEFAULT, n);
            LmsSampler lms = (LmsSampler) Sampler.create(s, PredictionType.EPSILON, 1);
            List<?> steps = (List<?>) g.at("traces", "N" + n, "steps");
            assertEquals(n, steps.size());
            for (int i = 0; i < n; i++) {
                double[] expected = Golden.doubles(((Map<?, ?>) steps.get(i)).get("lms_coefficients"));
                int order = Math.min(i + 1, 4);
                assertEquals(order, expected.length, "N" + n + " step " + i + " order");
                double scale = 0;
                for (double c : expected) {
                    scale = Math.max(scale, Math.abs(c));
                }
                for (int j = 0; j < order; j++) {
                    // the reference evaluates its integrand on float32 σ tensors (ours is exact in double),
                    // which moves its coefficients by up to ~1e-6 of the step's largest one
                    assertEquals(expected[j], lms.coefficient(order, i, j), 1e-5 * scale, "N" + n + " step " + i + " c" + j);
                }
            }
        }
    }
}
