package dev.sdjava.model.text;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.TextEncoderConfig;
import dev.sdjava.model.Weights;

/** One pre-norm transformer layer: {@code x += attn(ln1(x)); x += mlp(ln2(x))}. */
final class ClipEncoderLayer {
    private final Kernels kernels;
    private final float[] layerNorm1Weight; // [D]
    private final float[] layerNorm1Bias;   // [D]
    private final ClipAttention selfAttention;
    private final float[] layerNorm2Weight; // [D]
    private final float[] layerNorm2Bias;   // [D]
    private final ClipMlp mlp;
    private final int width;
    private final float eps;

    ClipEncoderLayer(Kernels kernels, Weights w, TextEncoderConfig config) {
        this.kernels = kernels;
        this.layerNorm1Weight = w.get("layer_norm1.weight").toFloatArray();
        this.layerNorm1Bias = w.get("layer_norm1.bias").toFloatArray();
        this.selfAttention = new ClipAttention(kernels, w.scope("self_attn"), config.width(), config.heads());
        this.layerNorm2Weight = w.get("layer_norm2.weight").toFloatArray();
        this.layerNorm2Bias = w.get("layer_norm2.bias").toFloatArray();
        this.mlp = new ClipMlp(kernels, w.scope("mlp"), config.mlpWidth(), config.activation());
        this.width = config.width();
        this.eps = config.layerNormEps();
    }

    /** Updates the residual stream {@code b.x [batch·tokens, D]} in place. */
    void forward(ClipBuffers b, int batch, int tokens) {
        int rows = batch * tokens;
        int n = rows * width;
        kernels.layerNorm(b.x, rows, width, eps, layerNorm1Weight, layerNorm1Bias, b.h);
        selfAttention.forward(b, batch, tokens);
        kernels.add(b.x, b.out, n, b.x);
        kernels.layerNorm(b.x, rows, width, eps, layerNorm2Weight, layerNorm2Bias, b.h);
        mlp.forward(b, rows);
        kernels.add(b.x, b.out, n, b.x);
    }
}
