package dev.sdjava.model.diffusion;

/**
 * How a tiled VAE pass cuts one axis of the latent grid into overlapping tiles, and how much of each tile every
 * output position takes. It follows diffusers' AutoencoderKL tiling (tiles of at most {@code maxTile}, neighbours
 * overlapping by at least {@code overlap}, a linear cross-fade across each overlap) with two changes: tiles are
 * spread evenly and shrunk to the smallest equal size that covers the axis (diffusers steps by a fixed stride and
 * decodes a sliver of a tile at the end), and a tile's contribution is written straight into the output
 * (diffusers keeps every decoded tile until the end), so memory holds one tile at a time.
 *
 * <p>A 2-D tiling is a {@code Tiles} for rows times one for columns; the weight of tile (r, c) at a pixel is the
 * product of the two axes' weights, which sum to one over the tiles covering each position.
 */
final class Tiles {
    /** Latent position where tile k starts. */
    private final int[] starts;
    /** Latent length of every tile. */
    final int tile;
    /** Output positions per latent position along this axis (8 for the SD decoder, 1 for the encoder). */
    private final int scale;
    /** weights[k][u]: the share of tile k at output position {@code starts[k]·scale + u}. */
    private final float[][] weights;

    /**
     * Tiles of at most {@code maxTile} latent positions overlapping by at least {@code overlap} over an axis of
     * {@code length}; {@code 0 <= overlap < maxTile}. A single tile when the axis fits in one.
     */
    Tiles(int length, int maxTile, int overlap, int scale) {
        int n = length <= maxTile ? 1 : Math.ceilDiv(length - overlap, maxTile - overlap);
        tile = Math.ceilDiv(length + (n - 1) * overlap, n); // n · (maxTile − overlap) ≥ length − overlap, so ≤ maxTile
        this.scale = scale;
        starts = new int[n];
        for (int k = 1; k < n; k++) {
            // even spacing; the steps are floor or ceil of (length − tile)/(n − 1) ≤ tile − overlap
            starts[k] = (int) Math.round((double) k * (length - tile) / (n - 1));
        }
        int size = tile * scale;
        double[][] raw = new double[n][size];
        double[] sum = new double[length * scale];
        for (int k = 0; k < n; k++) {
            double left = k > 0 ? (starts[k - 1] + tile - starts[k]) * scale : 0;   // overlap with tile k − 1
            double right = k < n - 1 ? (starts[k] + tile - starts[k + 1]) * scale : 0; // and with tile k + 1
            for (int u = 0; u < size; u++) {
                // a linear ramp from each edge shared with a neighbour across that overlap; 1 inside
                double w = 1;
                if (left > 0) {
                    w = Math.min(w, (u + 0.5) / left);
                }
                if (right > 0) {
                    w = Math.min(w, (size - u - 0.5) / right);
                }
                raw[k][u] = w;
                sum[starts[k] * scale + u] += w;
            }
        }
        // Normalised, so the shares at each position sum to one (a partition of unity): where two tiles overlap
        // the ramps already do; the division also covers three tiles overlapping on short axes. A position
        // only one tile covers gets exactly 1.
        weights = new float[n][size];
        for (int k = 0; k < n; k++) {
            for (int u = 0; u < size; u++) {
                weights[k][u] = (float) (raw[k][u] / sum[starts[k] * scale + u]);
            }
        }
    }

    int count() {
        return starts.length;
    }

    int start(int k) {
        return starts[k];
    }

    /**
     * Adds tile (r, c) of {@code rows × cols}, {@code tile[channels, rows.tile·scale, cols.tile·scale]}, with its
     * weights into {@code out[channels, height, width]} (output positions), which must start zeroed. Positions the
     * tile alone covers are copied, so a single tile reproduces its input bit for bit.
     */
    static void blend(float[] tile, int channels, Tiles rows, int r, Tiles cols, int c, float[] out, int outOffset,
                      int height, int width) {
        int th = rows.tile * rows.scale;
        int tw = cols.tile * cols.scale;
        int y0 = rows.starts[r] * rows.scale;
        int x0 = cols.starts[c] * cols.scale;
        float[] wy = rows.weights[r];
        float[] wx = cols.weights[c];
        for (int ch = 0; ch < channels; ch++) {
            for (int v = 0; v < th; v++) {
                int src = (ch * th + v) * tw;
                int dst = outOffset + (ch * height + y0 + v) * width + x0;
                for (int u = 0; u < tw; u++) {
                    float w = wy[v] * wx[u];
                    out[dst + u] = w == 1f ? tile[src + u] : out[dst + u] + w * tile[src + u];
                }
            }
        }
    }

    /** {@code window[channels, h, w]} = {@code x[channels, height, width]} from row y0, column x0. */
    static void crop(float[] x, int offset, int channels, int height, int width, int y0, int x0, int h, int w,
                     float[] window) {
        for (int ch = 0; ch < channels; ch++) {
            for (int v = 0; v < h; v++) {
                System.arraycopy(x, offset + (ch * height + y0 + v) * width + x0, window, (ch * h + v) * w, w);
            }
        }
    }

    /** Checks a tile size and overlap in pixels against the VAE's scale {@code factor}; the message names the parameter. */
    static void check(int tileSize, int overlap, int factor) {
        if (tileSize < factor || tileSize % factor != 0) {
            throw new IllegalArgumentException("VAE tiling: tile size " + tileSize + " px must be a positive multiple of "
                    + factor + " (the VAE's scale factor)");
        }
        if (overlap < 0 || overlap % factor != 0 || overlap > tileSize / 2) {
            throw new IllegalArgumentException("VAE tiling: overlap " + overlap + " px must be a multiple of " + factor
                    + " between 0 and half the tile size (" + tileSize / 2 + ")");
        }
    }
}
