package dev.sdjava.model.text;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.kernels.LinearWeights;
import dev.sdjava.model.TextEncoderConfig.Activation;
import dev.sdjava.model.Weights;

/** The feed-forward half of a layer: {@code fc2(act(fc1(h)))}. */
final class ClipMlp {
    private final Kernels kernels;
    private final LinearWeights fc1; // [F, D] + [F]
    private final LinearWeights fc2; // [D, F] + [D]
    private final Activation activation;
    private final int mlpWidth;

    ClipMlp(Kernels kernels, Weights w, int mlpWidth, Activation activation) {
        this.kernels = kernels;
        this.fc1 = ClipAttention.linear(kernels, w, "fc1");
        this.fc2 = ClipAttention.linear(kernels, w, "fc2");
        this.activation = activation;
        this.mlpWidth = mlpWidth;
    }

    /** {@code b.out = fc2(act(fc1(b.h)))}. */
    void forward(ClipBuffers b, int rows) {
        kernels.linear(b.h, rows, fc1, b.mlp);
        int n = rows * mlpWidth;
        switch (activation) {
            case QUICK_GELU -> kernels.quickGelu(b.mlp, n, b.mlp);
            case GELU -> kernels.gelu(b.mlp, n, b.mlp);
        }
        kernels.linear(b.mlp, rows, fc2, b.out);
    }
}
