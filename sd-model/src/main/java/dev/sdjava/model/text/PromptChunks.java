package dev.sdjava.model.text;

import java.util.Arrays;

/**
 * A prompt ready for the text encoder: one or more 77-token rows ("chunks"), each
 * {@code [BOS] + up to 75 tokens + [EOS] + padding}, and a weight per token. The encoder runs
 * each chunk, scales each token's output by its weight, restores the chunk's mean, and
 * concatenates the chunks along the token axis. Weights of BOS, EOS and padding are 1.
 *
 * <p>Immutable: the arrays are copied in and out.
 *
 * @param ids     [chunks][77] token ids
 * @param weights [chunks][77] emphasis multipliers
 */
public record PromptChunks(int[][] ids, float[][] weights) {

    public PromptChunks {
        if (ids.length == 0 || ids.length != weights.length) {
            throw new IllegalArgumentException("expected at least one chunk and as many weight rows as id rows, got "
                    + ids.length + " id rows and " + weights.length + " weight rows");
        }
        ids = ids.clone();
        weights = weights.clone();
        for (int c = 0; c < ids.length; c++) {
            if (ids[c].length != ClipTokenizer.MAX_LENGTH || weights[c].length != ClipTokenizer.MAX_LENGTH) {
                throw new IllegalArgumentException("chunk " + c + " must have " + ClipTokenizer.MAX_LENGTH
                        + " ids and weights, got " + ids[c].length + " and " + weights[c].length);
            }
            ids[c] = ids[c].clone();
            weights[c] = weights[c].clone();
        }
    }

    public int chunkCount() {
        return ids.length;
    }

    /** A copy of chunk {@code c}'s 77 ids. */
    public int[] ids(int c) {
        return ids[c].clone();
    }

    /** A copy of chunk {@code c}'s 77 weights. */
    public float[] weights(int c) {
        return weights[c].clone();
    }

    @Override
    public int[][] ids() {
        return Arrays.stream(ids).map(int[]::clone).toArray(int[][]::new);
    }

    @Override
    public float[][] weights() {
        return Arrays.stream(weights).map(float[]::clone).toArray(float[][]::new);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PromptChunks p && Arrays.deepEquals(ids, p.ids) && Arrays.deepEquals(weights, p.weights);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.deepHashCode(ids) + Arrays.deepHashCode(weights);
    }

    @Override
    public String toString() {
        return "PromptChunks[" + ids.length + " chunk(s), ids=" + Arrays.deepToString(ids) + "]";
    }
}
