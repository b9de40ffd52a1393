package dev.sdjava.kernels;

/** Textbook formulas in double precision, written independently of both providers. */
final class Naive {
    private Naive() {
    }

    static float[] conv(float[] x, int batch, int in, int h, int w, float[] wt, float[] bias, int out, int kh, int kw,
                        int stride, int padTop, int padLeft, int oh, int ow) {
        float[] y = new float[batch * out * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                for (int r = 0; r < oh; r++) {
                    for (int c = 0; c < ow; c++) {
                        double s = bias == null ? 0 : bias[o];
                        for (int i = 0; i < in; i++) {
                            for (int dr = 0; dr < kh; dr++) {
                                for (int dc = 0; dc < kw; dc++) {
                                    int ir = r * stride - padTop + dr, ic = c * stride - padLeft + dc;
                                    if (ir >= 0 && ir < h && ic >= 0 && ic < w) {
                                        s += (double) wt[((o * in + i) * kh + dr) * kw + dc] * x[((b * in + i) * h + ir) * w + ic];
                                    }
                                }
                            }
                        }
                        y[((b * out + o) * oh + r) * ow + c] = (float) s;
                    }
                }
            }
        }
        return y;
    }

    /** softmax(q kᵀ · scale) v with the whole score row in hand. */
    static float[] attention(float[] q, float[] k, float[] v, int batch, int heads, int queries, int keys, int d,
                             float scale, boolean causal) {
        int width = heads * d;
        float[] out = new float[batch * queries * width];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < queries; i++) {
                    int last = causal ? Math.min(keys, i + 1) : keys;
                    double[] p = new double[last];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < last; j++) {
                        double s = 0;
                        for (int e = 0; e < d; e++) {
                            s += (double) q[(b * queries + i) * width + h * d + e] * k[(b * keys + j) * width + h * d + e];
                        }
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < last; j++) {
                        p[j] = Math.exp(p[j] - max);
                        sum += p[j];
                    }
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        for (int j = 0; j < last; j++) {
                            acc += p[j] * v[(b * keys + j) * width + h * d + e];
                        }
                        out[(b * queries + i) * width + h * d + e] = (float) (acc / sum);
                    }
                }
            }
        }
        return out;
    }

    static float[] random(java.util.Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** Largest |a - b| / (atol + rtol·|b|) over the first n elements; <= 1 means within tolerance. */
    static double worst(float[] a, float[] b, int n, double atol, double rtol) {
        double w = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.abs((double) a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
            if (!(e <= w)) {
                w = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
            }
        }
        return w;
    }
}
