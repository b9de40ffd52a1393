package dev.sdjava.model.text;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CLIP's byte-level BPE model: one pre-tokenised piece (a word, a digit or a run of symbols) in,
 * vocabulary ids out. The piece's UTF-8 bytes are mapped to the 256 printable "byte-unicode"
 * characters, the last one gets the end-of-word marker {@code </w>}, then the adjacent pair with
 * the lowest merge rank is merged (leftmost first) until no pair has a rank.
 *
 * <p>Merging uses a linked list of symbols and a heap of candidate pairs, so a word of n bytes
 * costs O(n log n), not the O(n²) of the textbook loop: a 100 000-letter "word" is harmless.
 * Results are cached per piece (bounded), as prompts repeat words. Thread-safe.
 */
final class Bpe {

    static final String END_OF_WORD = "</w>";
    private static final int CACHE_ENTRIES = 10_000;
    private static final int CACHE_MAX_PIECE_LENGTH = 256;
    private static final long EMPTY = -1L; // ids are non-negative, so no pair key is -1

    private final Map<String, Integer> vocab;
    private final long[] pairKeys;           // open-addressing table (left, right) -> rank
    private final int[] pairRanks;
    private final int[] mergedId;            // [rank] id of the token a merge produces
    private final int[] byteId = new int[256];        // [byte] id of the byte's character
    private final int[] byteEndId = new int[256];     // [byte] id of the character + "</w>"
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab token -> id; the new instance owns it (callers pass a fresh map)
     * @param merges merge rules {@code {left, right}} in priority order (index = rank)
     * @param source names the files in error messages
     */
    Bpe(Map<String, Integer> vocab, List<String[]> merges, String source) {
        this.vocab = vocab;
        int capacity = Integer.highestOneBit(Math.max(4, merges.size() * 2)) * 2;
        pairKeys = new long[capacity];
        pairRanks = new int[capacity];
        Arrays.fill(pairKeys, EMPTY);
        char[] byteChar = byteToUnicode();
        for (int b = 0; b < 256; b++) {
            byteId[b] = idOf(String.valueOf(byteChar[b]), source);
            byteEndId[b] = idOf(byteChar[b] + END_OF_WORD, source);
        }
        mergedId = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            int left = idOf(m[0], source);
            int right = idOf(m[1], source);
            mergedId[rank] = idOf(m[0] + m[1], source);
            putRankIfAbsent(pairKey(left, right), rank);
        }
    }

    /** The id of a vocabulary entry, or -1. */
    int id(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    /** BPE ids of one pre-tokenised piece (already normalised and lower-cased). */
    int[] encodePiece(String piece) {
        int[] cached = cache.get(piece);
        if (cached != null) {
            return cached;
        }
        int[] ids = merge(initialSymbols(piece));
        if (piece.length() <= CACHE_MAX_PIECE_LENGTH && cache.size() < CACHE_ENTRIES) {
            cache.put(piece, ids);
        }
        return ids;
    }

    /** One symbol per UTF-8 byte; unpaired surrogates (no UTF-8 form) are encoded as U+FFFD. */
    private int[] initialSymbols(String piece) {
        byte[] utf8 = new byte[piece.length() * 3];
        int n = 0;
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            i += Character.charCount(cp);
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
                cp = 0xFFFD;
            }
            if (cp < 0x80) {
                utf8[n++] = (byte) cp;
            } else if (cp < 0x800) {
                utf8[n++] = (byte) (0xC0 | cp >> 6);
                utf8[n++] = (byte) (0x80 | cp & 0x3F);
            } else if (cp < 0x10000) {
                utf8[n++] = (byte) (0xE0 | cp >> 12);
                utf8[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                utf8[n++] = (byte) (0x80 | cp & 0x3F);
            } else {
                utf8[n++] = (byte) (0xF0 | cp >> 18);
                utf8[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                utf8[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                utf8[n++] = (byte) (0x80 | cp & 0x3F);
            }
        }
        int[] symbols = new int[n];
        for (int i = 0; i < n; i++) {
            symbols[i] = byteId[utf8[i] & 0xFF];
        }
        if (n > 0) {
            symbols[n - 1] = byteEndId[utf8[n - 1] & 0xFF];
        }
        return symbols;
    }

    /**
     * Repeatedly merges the lowest-ranked adjacent pair, leftmost first. Heap entries are
     * {@code rank << 32 | leftPosition}; an entry is stale when its pair has since changed, which
     * is detected by re-reading the pair's rank (a rank names exactly one pair).
     */
    private int[] merge(int[] sym) {
        int n = sym.length;
        if (n < 2) {
            return sym;
        }
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] gone = new boolean[n];
        PriorityQueue<Long> heap = new PriorityQueue<>();
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1;
            if (i + 1 < n) {
                offer(heap, sym[i], sym[i + 1], i);
            }
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long entry = heap.poll();
            int rank = (int) (entry >>> 32);
            int i = (int) entry;
            int j = next[i];
            if (gone[i] || j >= n || rank(sym[i], sym[j]) != rank) {
                continue;
            }
            sym[i] = mergedId[rank];
            gone[j] = true;
            alive--;
            next[i] = next[j];
            if (next[i] < n) {
                prev[next[i]] = i;
                offer(heap, sym[i], sym[next[i]], i);
            }
            if (prev[i] >= 0) {
                offer(heap, sym[prev[i]], sym[i], prev[i]);
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i < n; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    private void offer(PriorityQueue<Long> heap, int left, int right, int position) {
        int rank = rank(left, right);
        if (rank >= 0) {
            heap.add((long) rank << 32 | position);
        }
    }

    /** The merge rank of an adjacent pair of ids, or -1 when they do not merge. */
    private int rank(int left, int right) {
        long key = pairKey(left, right);
        for (int slot = slot(key); ; slot = (slot + 1) & (pairKeys.length - 1)) {
            if (pairKeys[slot] == key) {
                return pairRanks[slot];
            }
            if (pairKeys[slot] == EMPTY) {
                return -1;
            }
        }
    }

    /** Duplicate merge lines keep their first (best) rank. */
    private void putRankIfAbsent(long key, int rank) {
        int slot = slot(key);
        while (pairKeys[slot] != EMPTY) {
            if (pairKeys[slot] == key) {
                return;
            }
            slot = (slot + 1) & (pairKeys.length - 1);
        }
        pairKeys[slot] = key;
        pairRanks[slot] = rank;
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & (pairKeys.length - 1);
    }

    private static long pairKey(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    private int idOf(String token, String source) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(source + ": token '" + token + "' (needed by the byte table or a merge) is not in the vocabulary");
        }
        return id;
    }

    /**
     * GPT-2/CLIP's reversible byte -> character table: printable Latin-1 bytes ({@code !..~},
     * {@code ¡..¬}, {@code ®..ÿ}) map to themselves, the other 68 bytes to U+0100, U+0101, ... in
     * increasing byte order (so no token ever contains whitespace or control characters).
     */
    static char[] byteToUnicode() {
        char[] table = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            table[b] = printable(b) ? (char) b : (char) (256 + extra++);
        }
        return table;
    }

    /** The 256 byte characters in vocabulary order: the printable ones first, then the remapped. */
    static char[] byteCharsInVocabOrder() {
        char[] table = byteToUnicode();
        char[] order = new char[256];
        int k = 0;
        for (int b = 0; b < 256; b++) {
            if (printable(b)) {
                order[k++] = table[b];
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!printable(b)) {
                order[k++] = table[b];
            }
        }
        return order;
    }

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }
}
