package dev.sdjava.sampling;

import dev.sdjava.model.text.ClipTextEncoder;
import dev.sdjava.model.text.ClipTokenizer;
import dev.sdjava.model.text.PromptChunks;

/**
 * Text-encoder output for a chunked, weighted prompt, with A1111's emphasis: every chunk is encoded on
 * its own, each token's embedding is multiplied by its weight, and the chunk is rescaled so its mean is
 * what it was before weighting. Chunks are concatenated along the token axis.
 */
final class PromptEmbedding {
    private PromptEmbedding() {
    }

    /** Writes {@code [chunks · 77, D]} into {@code out} from {@code offset}. */
    static void encode(ClipTextEncoder encoder, PromptChunks prompt, int clipSkip, float[] out, int offset) {
        int chunks = prompt.chunkCount();
        int tokens = ClipTokenizer.MAX_LENGTH;
        int dim = encoder.config().width();
        int[] ids = new int[chunks * tokens];
        for (int c = 0; c < chunks; c++) {
            System.arraycopy(prompt.ids(c), 0, ids, c * tokens, tokens);
        }
        float[] z = encoder.encode(ids, chunks, clipSkip);
        for (int c = 0; c < chunks; c++) {
            emphasise(z, c * tokens * dim, prompt.weights(c), dim);
        }
        System.arraycopy(z, 0, out, offset, z.length);
    }

    /** Scales token {@code t}'s embedding by {@code weights[t]}, then restores the chunk's mean. */
    private static void emphasise(float[] z, int from, float[] weights, int dim) {
        boolean unit = true;
        for (float w : weights) {
            unit &= w == 1f;
        }
        if (unit) {
            return; // leave diffusers-equivalent embeddings bit for bit untouched
        }
        int to = from + weights.length * dim;
        double before = 0;
        for (int i = from; i < to; i++) {
            before += z[i];
        }
        double after = 0;
        for (int t = 0; t < weights.length; t++) {
            for (int i = from + t * dim; i < from + (t + 1) * dim; i++) {
                z[i] *= weights[t];
                after += z[i];
            }
        }
        float restore = (float) (before / after);
        for (int i = from; i < to; i++) {
            z[i] *= restore;
        }
    }
}
