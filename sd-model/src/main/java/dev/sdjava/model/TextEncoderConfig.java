package dev.sdjava.model;

import dev.sdjava.tensor.Tensor;
import java.util.Map;

/**
 * The CLIP text tower's hyper-parameters: widths and layer count read from the tensors, heads and
 * activation from the config (or the checkpoint's layout: OpenCLIP means gelu).
 *
 * @param vocabSize    rows of the token embedding (49408)
 * @param maxPositions rows of the position embedding (77)
 * @param width        hidden size D (768 SD 1.x, 1024 SD 2.x)
 * @param layers       encoder layers run (SD 2.x: the stored blocks but the last)
 * @param heads        attention heads (D / 64 in the real models)
 * @param mlpWidth     the MLP's inner width (4 D)
 * @param activation   the MLP's activation
 * @param layerNormEps LayerNorm epsilon (1e-5)
 */
public record TextEncoderConfig(int vocabSize, int maxPositions, int width, int layers, int heads, int mlpWidth,
                                Activation activation, float layerNormEps) {

    public enum Activation {
        /** {@code x·sigmoid(1.702x)}: OpenAI CLIP, SD 1.x. */
        QUICK_GELU,
        /** Exact GELU: OpenCLIP, SD 2.x. */
        GELU
    }

    public TextEncoderConfig {
        if (heads <= 0 || width % heads != 0) {
            throw new CheckpointException("text encoder: " + heads + " attention heads do not divide its width " + width);
        }
    }

    /** Widths and layer count from {@code tensors} (diffusers names), the rest as given. */
    static TextEncoderConfig detect(Map<String, Tensor> tensors, Integer heads, Activation activation, float eps) {
        int width = (int) Shapes.dim(tensors, 1, "text_model.embeddings.token_embedding.weight",
                "text_model.embeddings.position_embedding.weight");
        if (width == 0) {
            width = (int) Shapes.dim(tensors, 0, "text_model.final_layer_norm.weight");
        }
        int layers = NameMapping.indices(tensors.keySet(), "text_model.encoder.layers.").size();
        int h = heads != null ? heads : width % 64 == 0 && width > 0 ? width / 64 : 0;
        if (h == 0) {
            throw new CheckpointException("text encoder: cannot tell the attention heads of width " + width
                    + " (the real CLIP towers use head size 64); give them with LoadOptions.withTextEncoderHeads");
        }
        return new TextEncoderConfig(
                (int) Shapes.dim(tensors, 0, "text_model.embeddings.token_embedding.weight"),
                (int) Shapes.dim(tensors, 0, "text_model.embeddings.position_embedding.weight"),
                width, layers, h,
                (int) Shapes.dim(tensors, 0, "text_model.encoder.layers.0.mlp.fc1.weight"),
                activation, eps);
    }

    /** Head size, {@code width / heads}. */
    public int headDim() {
        return width / heads;
    }

    TensorSchema schema() {
        TensorSchema s = new TensorSchema()
                .tensor("text_model.embeddings.token_embedding.weight", vocabSize, width)
                .tensor("text_model.embeddings.position_embedding.weight", maxPositions, width);
        for (int n = 0; n < layers; n++) {
            String layer = "text_model.encoder.layers." + n + ".";
            s.norm(layer + "layer_norm1", width)
                    .linear(layer + "self_attn.q_proj", width, width)
                    .linear(layer + "self_attn.k_proj", width, width)
                    .linear(layer + "self_attn.v_proj", width, width)
                    .linear(layer + "self_attn.out_proj", width, width)
                    .norm(layer + "layer_norm2", width)
                    .linear(layer + "mlp.fc1", mlpWidth, width)
                    .linear(layer + "mlp.fc2", width, mlpWidth);
        }
        return s.norm("text_model.final_layer_norm", width);
    }
}
