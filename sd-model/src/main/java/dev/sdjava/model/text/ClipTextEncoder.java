package dev.sdjava.model.text;

import dev.sdjava.kernels.Kernels;
import dev.sdjava.model.TextEncoderConfig;
import dev.sdjava.model.Weights;
import dev.sdjava.tensor.Tensor;

/**
 * The CLIP text tower of SD 1.x (OpenAI ViT-L/14, quick_gelu) and SD 2.x (OpenCLIP ViT-H, gelu; its
 * loader already dropped the stored block SD 2 never runs), computing what the pipelines feed the
 * U-Net: {@code last_hidden_state = final_layer_norm(layers(token_embedding[ids] + position_embedding))}.
 * No padding mask: SD passes none, only the causal one applies.
 *
 * <p>Weights are read once, at construction, under HF CLIPTextModel names ({@code text_model.…}).
 * An instance reuses its activation buffers: use it from one thread at a time.
 */
public final class ClipTextEncoder {
    private final Kernels kernels;
    private final TextEncoderConfig config;
    private final Tensor tokenEmbedding;        // [vocab, D], left mapped in its stored dtype: 77 rows are read per prompt
    private final float[] positionEmbedding;    // [positions, D]
    private final ClipEncoderLayer[] layers;
    private final float[] finalLayerNormWeight; // [D]
    private final float[] finalLayerNormBias;   // [D]
    private final ClipBuffers buffers = new ClipBuffers();

    /** The text encoder on the kernels chosen at start-up. */
    public ClipTextEncoder(Weights weights, TextEncoderConfig config) {
        this(weights, config, Kernels.get());
    }

    /** On the given kernels (e.g. a profiling proxy, or the scalar reference). */
    public ClipTextEncoder(Weights weights, TextEncoderConfig config, Kernels kernels) {
        this.kernels = kernels;
        this.config = config;
        Weights w = weights.scope("text_model");
        this.tokenEmbedding = w.get("embeddings.token_embedding.weight");
        this.positionEmbedding = w.get("embeddings.position_embedding.weight").toFloatArray();
        this.layers = new ClipEncoderLayer[config.layers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new ClipEncoderLayer(kernels, w.scope("encoder.layers." + i), config);
        }
        this.finalLayerNormWeight = w.get("final_layer_norm.weight").toFloatArray();
        this.finalLayerNormBias = w.get("final_layer_norm.bias").toFloatArray();
    }

    public TextEncoderConfig config() {
        return config;
    }

    /** {@link #encode(int[], int, int, float[])} into a new array. */
    public float[] encode(int[] ids, int batch, int clipSkip) {
        float[] out = new float[ids.length * config.width()];
        encode(ids, batch, clipSkip, out);
        return out;
    }

    /**
     * Encodes {@code batch} token sequences {@code ids [batch, tokens]} (tokens ≤ 77) into
     * {@code out [batch, tokens, D]}.
     *
     * @param clipSkip 0 for {@code last_hidden_state}; n > 0 stops n layers early and applies the final
     *                 LayerNorm to that output (diffusers {@code clip_skip=n}; A1111 "CLIP skip n+1")
     */
    public void encode(int[] ids, int batch, int clipSkip, float[] out) {
        int width = config.width();
        if (batch <= 0 || ids.length % batch != 0) {
            throw new IllegalArgumentException(ids.length + " token ids do not split into " + batch + " sequences");
        }
        int tokens = ids.length / batch;
        if (tokens > config.maxPositions()) {
            throw new IllegalArgumentException("sequences of " + tokens + " tokens exceed the text encoder's " + config.maxPositions()
                    + " positions");
        }
        if (clipSkip < 0 || clipSkip >= layers.length) {
            throw new IllegalArgumentException("clipSkip must be in [0, " + (layers.length - 1) + "], was " + clipSkip);
        }
        if (out.length < ids.length * width) {
            throw new IllegalArgumentException("output holds " + out.length + " floats, needs " + ids.length * width);
        }
        int rows = ids.length;
        buffers.ensure(rows, width, config.mlpWidth());
        embed(ids, tokens);
        for (int i = 0; i < layers.length - clipSkip; i++) {
            layers[i].forward(buffers, batch, tokens);
        }
        kernels.layerNorm(buffers.x, rows, width, config.layerNormEps(), finalLayerNormWeight, finalLayerNormBias, out);
    }

    /** {@code x[r] = token_embedding[ids[r]] + position_embedding[r mod tokens]}. */
    private void embed(int[] ids, int tokens) {
        int width = config.width();
        for (int r = 0; r < ids.length; r++) {
            int id = ids[r];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " at position " + r + " is outside the vocabulary of " + config.vocabSize());
            }
            tokenEmbedding.slice(id, id + 1).copyTo(buffers.x, r * width);
        }
        for (int r = 0; r < ids.length; r++) {
            System.arraycopy(positionEmbedding, (r % tokens) * width, buffers.h, r * width, width);
        }
        kernels.add(buffers.x, buffers.h, ids.length * width, buffers.x);
    }
}
