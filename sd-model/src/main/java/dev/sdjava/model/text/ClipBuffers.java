package dev.sdjava.model.text;

/**
 * The text encoder's activations, allocated for the largest batch seen and reused by every call,
 * so encoding allocates nothing once warm.
 */
final class ClipBuffers {
    int rows;
    /** The residual stream {@code [rows, D]}. */
    float[] x = new float[0];
    /** A normalised copy of it {@code [rows, D]}. */
    float[] h = new float[0];
    float[] q = new float[0];
    float[] k = new float[0];
    float[] v = new float[0];
    /** Attention output per head, concatenated {@code [rows, D]}. */
    float[] attention = new float[0];
    /** A block's output before the residual add {@code [rows, D]}. */
    float[] out = new float[0];
    /** The MLP's inner activations {@code [rows, F]}. */
    float[] mlp = new float[0];

    void ensure(int rows, int width, int mlpWidth) {
        if (rows <= this.rows) {
            return;
        }
        this.rows = rows;
        int n = rows * width;
        x = new float[n];
        h = new float[n];
        q = new float[n];
        k = new float[n];
        v = new float[n];
        attention = new float[n];
        out = new float[n];
        mlp = new float[rows * mlpWidth];
    }
}
