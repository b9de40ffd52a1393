package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/**
 * diffusers' Transformer2DModel: GroupNorm, project the pixels to tokens, transformer layers, project back, add
 * the input. SD 1 stores {@code proj_in/proj_out} as 1x1 convs applied before flattening, SD 2 as linear layers
 * applied after (pitfall 9): on a pixel a 1x1 conv is that same linear map, so both run as one linear layer
 * over the tokens.
 */
final class SpatialTransformer {
    private static final float NORM_EPS = 1e-6f;

    private final Kernels k;
    private final GroupNorm norm;                 // [channels]
    private final LinearWeights projIn;           // [inner, channels] or [inner, channels, 1, 1]
    private final BasicTransformerBlock[] blocks; // transformer_blocks.0.. (one in SD 1/2)
    private final LinearWeights projOut;          // [channels, inner] or [channels, inner, 1, 1]
    private final int channels;
    private final int inner;

    private SpatialTransformer(Kernels k, GroupNorm norm, LinearWeights projIn, BasicTransformerBlock[] blocks,
                               LinearWeights projOut, int channels, int inner) {
        this.k = k;
        this.norm = norm;
        this.projIn = projIn;
        this.blocks = blocks;
        this.projOut = projOut;
        this.channels = channels;
        this.inner = inner;
    }

    static SpatialTransformer load(Kernels k, Weights w, String prefix, int channels, int depth, int contextDim, int heads) {
        int inner = Params.dim(w, prefix + ".proj_in.weight", 0);
        BasicTransformerBlock[] blocks = new BasicTransformerBlock[depth];
        for (int i = 0; i < depth; i++) {
            blocks[i] = BasicTransformerBlock.load(k, w, prefix + ".transformer_blocks." + i, inner, contextDim, heads);
        }
        return new SpatialTransformer(k,
                GroupNorm.load(k, w, prefix + ".norm", channels, NORM_EPS),
                Params.linear(k, w, prefix + ".proj_in", channels, inner),
                blocks,
                Params.linear(k, w, prefix + ".proj_out", inner, channels),
                channels, inner);
    }

    /** {@code y[batch, channels, height, width]} from x of the same shape; y may alias x (the residual is added last). */
    void forward(float[] x, int batch, int height, int width, float[] context, int contextTokens, float[] y, Workspace ws) {
        int spatial = height * width;
        int rows = batch * spatial;
        int mark = ws.mark();
        float[] pixels = ws.take((long) rows * channels);
        float[] tokens = ws.take((long) rows * channels);
        float[] h = ws.take((long) rows * inner);
        norm.forward(x, batch, spatial, false, pixels);
        k.toTokens(pixels, batch, channels, spatial, tokens);
        k.linear(tokens, rows, projIn, h);
        for (BasicTransformerBlock block : blocks) {
            block.forward(h, batch, spatial, context, contextTokens, ws);
        }
        k.linear(h, rows, projOut, tokens);
        k.fromTokens(tokens, batch, channels, spatial, pixels);
        k.add(x, pixels, rows * channels, y);
        ws.release(mark);
    }
}
