package dev.sdjava.kernels;

/**
 * Weights kept in their stored 16-bit form (F16 or BF16), half the memory of F32, widened a cache block at a
 * time just before the micro-kernel reads them. Widening is exact, so results are bit-identical to F32
 * weights holding the same values; the cost is one conversion per element per block, small against the
 * FMAs each block feeds (a per-broadcast conversion inside the micro-kernel measured ~30% slower).
 */
record Half(short[] bits, boolean bf16) {

    /** {@code dst[at, at+n) = bits[from, from+n)} widened to float. */
    void widen(int from, int n, float[] dst, int at) {
        if (bf16) {
            widenBf16(bits, from, n, dst, at);
        } else {
            widenF16(bits, from, n, dst, at);
        }
    }

    /** Plain loops: C2 vectorises both (vcvtph2ps; zero-extend and shift). */
    private static void widenF16(short[] src, int from, int n, float[] dst, int at) {
        for (int i = 0; i < n; i++) {
            dst[at + i] = Float.float16ToFloat(src[from + i]);
        }
    }

    private static void widenBf16(short[] src, int from, int n, float[] dst, int at) {
        for (int i = 0; i < n; i++) {
            dst[at + i] = Float.intBitsToFloat((src[from + i] & 0xffff) << 16);
        }
    }
}
