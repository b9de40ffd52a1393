package dev.sdjava.sampling;

import dev.sdjava.kernels.Kernels;

/**
 * What an application that forgot {@code --add-modules jdk.incubator.vector} does: a whole golden txt2img
 * through {@link Pipeline}. {@link WithoutTheVectorApiTest} runs it in a JVM started without the module.
 */
final class WithoutTheVectorApi {
    static final String CASE = "euler_a_64x64_seeded_no_latents";

    private WithoutTheVectorApi() {
    }

    public static void main(String[] args) {
        System.out.println("kernels: " + Kernels.get().name());
        Golden golden = Golden.load("tiny-sd1/pipeline/" + CASE);
        try (Pipeline pipeline = Pipeline.load(PipelineGoldenTest.models().resolve("tiny-sd1"))) {
            Result result = pipeline.generate(PipelineGoldenTest.request(golden, CASE).build());
            PipelineGoldenTest.assertMatches(golden, result, 1e-4);
        }
        System.out.println("matches diffusers");
    }
}
