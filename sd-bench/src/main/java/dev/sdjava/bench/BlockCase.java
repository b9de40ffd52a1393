package dev.sdjava.bench;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.Weights;
import dev.sdjava.model.diffusion.UNetBlocks;
import dev.sdjava.tensor.DType;
import dev.sdjava.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One distinct block of a U-Net pass, with the places it runs at (diffusers prefixes): a step costs the block's
 * time {@code places().size()} times. Built alone through {@link UNetBlocks} (the U-Net's own classes) on random
 * F16 weights made in memory, with the values the random benchmark checkpoint would hold.
 */
public record BlockCase(UNetBlock block, List<String> places) {

    /** The distinct blocks of one U-Net pass over {@code height × width} latents, in the order they first run. */
    public static List<BlockCase> of(SdArchitecture a, int height, int width) {
        Map<UNetBlock, List<String>> places = new LinkedHashMap<>();
        UNetBlock.walk(a, height, width).forEach((prefix, block) ->
                places.computeIfAbsent(block, b -> new ArrayList<>()).add(prefix));
        List<BlockCase> cases = new ArrayList<>();
        places.forEach((block, where) -> cases.add(new BlockCase(block, List.copyOf(where))));
        return cases;
    }

    public String name() {
        return block.name();
    }

    /** How many times one U-Net pass runs this block. */
    public int count() {
        return places.size();
    }

    /** FLOPs of one call on {@code batch} latents. */
    public double flops(SdArchitecture a, int batch) {
        return ArchitectureFlops.unetBlock(a, block, batch).total();
    }

    /**
     * Makes the block's weights in {@code arena} (under its first place's names), its inputs and outputs; the
     * returned action is one forward call on {@code batch} latents.
     */
    public Runnable prepare(Kernels k, Arena arena, SdArchitecture a, int batch, long seed) {
        String prefix = places.getFirst();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        CheckpointLayout.unetBlock(a, block, prefix).forEach((name, shape) -> {
            Tensor t = Tensor.allocate(arena, DType.F16, shape);
            RandomCheckpoint.fill(name, t);
            tensors.put(name, t);
        });
        Weights w = Weights.of(tensors, "the block's random weights");
        SplittableRandom rnd = new SplittableRandom(seed);
        int h = block.height(), wd = block.width();
        float[] x = gaussian(rnd, (long) batch * block.in() * h * wd);
        float[] y = new float[Math.toIntExact((long) batch * block.out() * block.outHeight() * block.outWidth())];
        return switch (block.kind()) {
            case RESNET -> UNetBlocks.resnet(k, w, prefix, block.in(), block.out(), a.timeEmbedDim(), x, batch, h, wd,
                    gaussian(rnd, (long) batch * a.timeEmbedDim()), y);
            case TRANSFORMER -> UNetBlocks.transformer(k, w, prefix, block.in(), a.contextDim(), a.unetHeads(), x, batch,
                    h, wd, gaussian(rnd, (long) batch * a.tokens() * a.contextDim()), a.tokens(), y);
            case DOWNSAMPLE -> UNetBlocks.downsample(k, w, prefix, block.in(), x, batch, h, wd, y);
            case UPSAMPLE -> UNetBlocks.upsample(k, w, prefix, block.in(), x, batch, h, wd, block.outHeight(),
                    block.outWidth(), y);
        };
    }

    private static float[] gaussian(SplittableRandom rnd, long n) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
