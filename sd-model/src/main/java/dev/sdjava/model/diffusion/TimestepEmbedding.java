package dev.sdjava.model.diffusion;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.Weights;

/**
 * The time conditioning: a sinusoidal code of t (cos half first, frequency shift 0, as SD's
 * {@code flip_sin_to_cos=True, freq_shift=0}; argument math in float32, pitfall 1), then
 * {@code linear_2(silu(linear_1(code)))}.
 */
final class TimestepEmbedding {
    private final Kernels k;
    private final LinearWeights linear1; // [embedDim, sinusoidDim]
    private final LinearWeights linear2; // [embedDim, embedDim]
    final int sinusoidDim;
    final int embedDim;

    private TimestepEmbedding(Kernels k, LinearWeights linear1, LinearWeights linear2, int sinusoidDim, int embedDim) {
        this.k = k;
        this.linear1 = linear1;
        this.linear2 = linear2;
        this.sinusoidDim = sinusoidDim;
        this.embedDim = embedDim;
    }

    static TimestepEmbedding load(Kernels k, Weights w, String prefix, int sinusoidDim, int embedDim) {
        return new TimestepEmbedding(k,
                Params.linear(k, w, prefix + ".linear_1", sinusoidDim, embedDim),
                Params.linear(k, w, prefix + ".linear_2", embedDim, embedDim),
                sinusoidDim, embedDim);
    }

    /** {@code emb[batch, embedDim]} for {@code timesteps[batch]}; the sinusoid code is left in {@code code[batch, sinusoidDim]}. */
    void forward(float[] timesteps, int batch, float[] code, float[] emb, Workspace ws) {
        int mark = ws.mark();
        float[] hidden = ws.take((long) batch * embedDim);
        k.timestepEmbedding(timesteps, batch, sinusoidDim, true, 0f, code);
        k.linear(code, batch, linear1, hidden);
        k.silu(hidden, batch * embedDim, hidden);
        k.linear(hidden, batch, linear2, emb);
        ws.release(mark);
    }
}
