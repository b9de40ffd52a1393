package dev.sdjava.model.text;

import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The CLIP tokenizer of Stable Diffusion 1.x and 2.x: byte-level BPE over a 49408-entry vocabulary
 * with {@code <|startoftext|>} (49406) and {@code <|endoftext|>} (49407).
 *
 * <p>It reproduces transformers' {@code CLIPTokenizer}, which is what diffusers runs and what the
 * goldens record: special-token strings typed in the prompt become their ids; the rest is
 * NFC-normalised, lower-cased and split with CLIP's pattern (the two marker strings,
 * {@code 's|'t|'re|'ve|'m|'ll|'d}, letter runs, single digits, runs of other non-space characters)
 * before BPE.
 * <b>Clean-up:</b> unlike OpenAI's reference tokenizer we apply no ftfy / {@code html.unescape}, so
 * curly quotes, HTML entities ({@code &amp;}), ligatures and fullwidth forms are tokenized as typed,
 * exactly as diffusers does (OpenAI CLIP and open_clip would give other ids for such prompts).
 *
 * <p><b>Padding:</b> the pad token is a parameter. SD 1.x pads with {@code <|endoftext|>}, SD 2.x
 * with {@code !} (id 0). Because transformers registers the pad token as a special token, with the
 * SD 2.x tokenizer every {@code !} typed in a prompt also becomes id 0 (not the BPE tokens SD 1.x
 * gives); we reproduce that, as the SD 2.x text encoder sees exactly those ids under diffusers.
 *
 * <p>Immutable and thread-safe. {@link #encode} never throws on any non-null string.
 */
public final class ClipTokenizer {

    /** Ids per prompt row the text encoder takes: BOS, 75 tokens, EOS. */
    public static final int MAX_LENGTH = 77;
    /** Content tokens per row. */
    public static final int CHUNK_LENGTH = MAX_LENGTH - 2;
    public static final String START_OF_TEXT = "<|startoftext|>";
    public static final String END_OF_TEXT = "<|endoftext|>";
    /** SD 1.x's pad token. */
    public static final String SD1_PAD_TOKEN = END_OF_TEXT;
    /** SD 2.x's pad token (id 0). */
    public static final String SD2_PAD_TOKEN = "!";

    private static final String BUNDLED_MERGES = "merges.txt";
    private static final int BUNDLED_MERGE_COUNT = 49152 - 256 - 2;
    private static final String BUNDLED_SOURCE = "bundled CLIP vocabulary";
    private static Bpe bundledBpe; // guarded by ClipTokenizer.class
    private static final String[] MARKERS = {START_OF_TEXT, END_OF_TEXT};
    private static final String[] CONTRACTIONS = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

    private final Bpe bpe;
    private final String padToken;
    private final String[] specialTokens;   // matched in the raw prompt, longest first
    private final int[] specialIds;
    private final int bosId;
    private final int eosId;
    private final int padId;

    private ClipTokenizer(Bpe bpe, String padToken, Set<String> specials, String source) {
        this.bpe = bpe;
        this.padToken = padToken;
        Set<String> all = new LinkedHashSet<>(List.of(START_OF_TEXT, END_OF_TEXT, padToken));
        all.addAll(specials);
        all.remove("");
        this.specialTokens = all.stream()
                .sorted((a, b) -> Integer.compare(b.length(), a.length()))
                .toArray(String[]::new);
        this.specialIds = new int[specialTokens.length];
        for (int i = 0; i < specialTokens.length; i++) {
            specialIds[i] = requireId(specialTokens[i], source);
        }
        this.bosId = requireId(START_OF_TEXT, source);
        this.eosId = requireId(END_OF_TEXT, source);
        this.padId = requireId(padToken, source);
    }

    // ---------------------------------------------------------------------------------------------
    // Loading

    /**
     * The standard CLIP vocabulary bundled with sd-java (OpenAI CLIP, MIT licence: see
     * {@code LICENSE-openai-clip.txt} beside it), for single-file checkpoints, which carry none.
     *
     * @param padToken {@link #SD1_PAD_TOKEN} or {@link #SD2_PAD_TOKEN}
     */
    public static ClipTokenizer bundled(String padToken) {
        Objects.requireNonNull(padToken, "padToken");
        return new ClipTokenizer(bundledBpe(), padToken, Set.of(), BUNDLED_SOURCE);
    }

    /** Parsed once and shared: SD 1.x and 2.x tokenizers differ only in their special tokens. */
    private static synchronized Bpe bundledBpe() {
        if (bundledBpe == null) {
            List<String[]> merges;
            try (InputStream in = ClipTokenizer.class.getResourceAsStream(BUNDLED_MERGES)) {
                if (in == null) {
                    throw new IllegalStateException(BUNDLED_SOURCE + ": resource " + BUNDLED_MERGES + " is missing from sd-model");
                }
                merges = parseMerges(new String(in.readAllBytes(), StandardCharsets.UTF_8), BUNDLED_SOURCE);
            } catch (IOException e) {
                throw new UncheckedIOException(BUNDLED_SOURCE + ": cannot read " + BUNDLED_MERGES, e);
            }
            if (merges.size() != BUNDLED_MERGE_COUNT) {
                throw new IllegalStateException(BUNDLED_SOURCE + ": expected " + BUNDLED_MERGE_COUNT + " merges, found " + merges.size());
            }
            bundledBpe = new Bpe(standardVocab(merges), merges, BUNDLED_SOURCE);
        }
        return bundledBpe;
    }

    /**
     * Reads {@code vocab.json} and {@code merges.txt} from a tokenizer folder, or from the
     * {@code tokenizer/} sub-folder of a diffusers model folder. The pad token (and any further
     * special tokens) come from {@code special_tokens_map.json}, else {@code tokenizer_config.json};
     * {@code defaultPadToken} is used when neither names one.
     */
    public static ClipTokenizer fromFolder(Path folder, String defaultPadToken) {
        Objects.requireNonNull(folder, "folder");
        Objects.requireNonNull(defaultPadToken, "defaultPadToken");
        Path dir = Files.isRegularFile(folder.resolve("vocab.json")) ? folder : folder.resolve("tokenizer");
        Path vocabFile = dir.resolve("vocab.json");
        Path mergesFile = dir.resolve("merges.txt");
        if (!Files.isRegularFile(vocabFile) || !Files.isRegularFile(mergesFile)) {
            throw new IllegalArgumentException(folder + ": expected a tokenizer folder with vocab.json and merges.txt"
                    + " (or a diffusers folder with tokenizer/vocab.json and tokenizer/merges.txt)");
        }
        Map<String, Integer> vocab = new HashMap<>();
        if (!(readJson(vocabFile) instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(vocabFile + ": expected a JSON object token -> id");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof Long id) || id < 0 || id > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(vocabFile + ": token '" + e.getKey() + "' has id " + e.getValue() + ", expected a non-negative integer");
            }
            vocab.put((String) e.getKey(), id.intValue());
        }
        List<String[]> merges = parseMerges(readText(mergesFile), mergesFile.toString());

        // special_tokens_map.json wins over tokenizer_config.json, as in transformers.
        Set<String> specials = new LinkedHashSet<>();
        String padToken = null;
        for (String name : List.of("special_tokens_map.json", "tokenizer_config.json")) {
            Path file = dir.resolve(name);
            if (Files.isRegularFile(file) && readJson(file) instanceof Map<?, ?> config) {
                for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
                    String token = tokenContent(config.get(key));
                    if (token != null) {
                        specials.add(token);
                        if (key.equals("pad_token") && padToken == null) {
                            padToken = token;
                        }
                    }
                }
                if (config.get("added_tokens_decoder") instanceof Map<?, ?> added) {
                    for (Object token : added.values()) {
                        if (token instanceof Map<?, ?> t && Boolean.TRUE.equals(t.get("special"))) {
                            specials.add(tokenContent(t));
                        }
                    }
                }
            }
        }
        specials.remove(null);
        String source = dir.toString();
        return new ClipTokenizer(new Bpe(vocab, merges, source), padToken != null ? padToken : defaultPadToken, specials, source);
    }

    // ---------------------------------------------------------------------------------------------
    // Encoding

    /**
     * BPE ids of a prompt, without BOS/EOS, neither truncated nor padded (long-prompt chunking
     * needs them all).
     *
     * @throws NullPointerException if {@code prompt} is null
     */
    public int[] encode(String prompt) {
        Objects.requireNonNull(prompt, "prompt must not be null");
        IntStream.Builder out = IntStream.builder();
        int textStart = 0;
        for (int i = 0; i < prompt.length(); ) {
            int special = specialAt(prompt, i);
            if (special < 0) {
                i++;
                continue;
            }
            encodeText(prompt.substring(textStart, i), out);
            out.add(specialIds[special]);
            i += specialTokens[special].length();
            textStart = i;
        }
        encodeText(prompt.substring(textStart), out);
        return out.build().toArray();
    }

    /**
     * The 77-id row StableDiffusionPipeline feeds the text encoder:
     * {@code [BOS] + bpe[:75] + [EOS] + [pad]*}.
     */
    public int[] encodeRow(String prompt) {
        return row(encode(prompt));
    }

    /** {@code [BOS] + ids[:75] + [EOS]}, padded with the pad id to {@link #MAX_LENGTH}. */
    public int[] row(int[] bpeIds) {
        int n = Math.min(bpeIds.length, CHUNK_LENGTH);
        int[] row = new int[MAX_LENGTH];
        Arrays.fill(row, padId);
        row[0] = bosId;
        System.arraycopy(bpeIds, 0, row, 1, n);
        row[n + 1] = eosId;
        return row;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public String padToken() {
        return padToken;
    }

    /** The id of a vocabulary entry (e.g. {@code ",</w>"}), or -1 when absent. */
    public int tokenId(String token) {
        return bpe.id(token);
    }

    /** Index into {@link #specialTokens} of the special token starting at {@code i}, or -1 (longest wins). */
    private int specialAt(String prompt, int i) {
        for (int s = 0; s < specialTokens.length; s++) {
            if (prompt.startsWith(specialTokens[s], i)) {
                return s;
            }
        }
        return -1;
    }

    /** Normalises, lower-cases and pre-tokenises a stretch of prompt free of special tokens. */
    private void encodeText(String text, IntStream.Builder out) {
        if (text.isEmpty()) {
            return;
        }
        String s = lowerCase(Normalizer.normalize(text, Normalizer.Form.NFC));
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (isWhiteSpace(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int end = pieceEnd(s, i, cp);
            String piece = s.substring(i, end);
            if (piece.equals(START_OF_TEXT) || piece.equals(END_OF_TEXT)) {
                // Not special here (typed in another case), but a piece of its own, which the
                // byte-level step re-splits with GPT-2's pattern into "<|", the word and "|>".
                addPiece(piece.substring(0, 2), out);
                addPiece(piece.substring(2, piece.length() - 2), out);
                addPiece(piece.substring(piece.length() - 2), out);
            } else {
                addPiece(piece, out);
            }
            i = end;
        }
    }

    private void addPiece(String piece, IntStream.Builder out) {
        for (int id : bpe.encodePiece(piece)) {
            out.add(id);
        }
    }

    /**
     * End of the piece starting at {@code i} (a non-space {@code cp}), by CLIP's pattern
     * {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+},
     * alternatives tried in order.
     */
    private static int pieceEnd(String s, int i, int cp) {
        for (String marker : MARKERS) {
            if (s.startsWith(marker, i)) {
                return i + marker.length();
            }
        }
        if (cp == '\'') {
            for (String c : CONTRACTIONS) {
                if (s.startsWith(c, i)) {
                    return i + c.length();
                }
            }
        }
        if (Character.isLetter(cp)) {
            return endOfLetters(s, i);
        }
        if (isNumber(cp)) {
            return i + Character.charCount(cp); // every digit is its own piece
        }
        return endOfSymbols(s, i);
    }

    /** End of the run of letters starting at {@code i}. */
    private static int endOfLetters(String s, int i) {
        while (i < s.length() && Character.isLetter(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        return i;
    }

    /** End of the run of characters that are neither letters, numbers nor white space. */
    private static int endOfSymbols(String s, int i) {
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (Character.isLetter(cp) || isNumber(cp) || isWhiteSpace(cp)) {
                break;
            }
            i += Character.charCount(cp);
        }
        return i;
    }

    /** Per-character full lower-casing, as the Rust tokenizers library does (no final-sigma rule). */
    private static String lowerCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (cp == 0x130) {
                sb.append("i\u0307"); // İ: the one unconditional multi-character lower-case mapping
            } else {
                sb.appendCodePoint(Character.toLowerCase(cp));
            }
        });
        return sb.toString();
    }

    private static boolean isNumber(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Unicode White_Space, what {@code \s} matches in the reference's regex engine. */
    private static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    // ---------------------------------------------------------------------------------------------
    // Files

    /**
     * CLIP's vocabulary built from its merges: the 256 byte characters, the same with {@code </w>},
     * one token per merge, then the two special tokens (testdata/clip-vocab/README.md).
     */
    static Map<String, Integer> standardVocab(List<String[]> merges) {
        Map<String, Integer> vocab = new HashMap<>();
        char[] bytes = Bpe.byteCharsInVocabOrder();
        for (char c : bytes) {
            vocab.put(String.valueOf(c), vocab.size());
        }
        for (char c : bytes) {
            vocab.put(c + Bpe.END_OF_WORD, vocab.size());
        }
        for (String[] m : merges) {
            vocab.put(m[0] + m[1], vocab.size());
        }
        vocab.put(START_OF_TEXT, vocab.size());
        vocab.put(END_OF_TEXT, vocab.size());
        return vocab;
    }

    /** merges.txt: an optional {@code #version} line, then one {@code left right} pair per line. */
    static List<String[]> parseMerges(String text, String source) {
        List<String[]> merges = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isEmpty() || (i == 0 && line.startsWith("#version"))) {
                continue;
            }
            int space = line.indexOf(' ');
            if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                throw new IllegalArgumentException(source + ": line " + (i + 1) + " is not a merge 'left right': " + line);
            }
            merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
        }
        return merges;
    }

    private static String tokenContent(Object token) {
        if (token instanceof String s) {
            return s;
        }
        if (token instanceof Map<?, ?> m && m.get("content") instanceof String s) {
            return s;
        }
        return null;
    }

    private int requireId(String token, String source) {
        int id = bpe.id(token);
        if (id < 0) {
            throw new IllegalArgumentException(source + ": special token '" + token + "' is not in the vocabulary");
        }
        return id;
    }

    private static Object readJson(Path file) {
        try {
            return Json.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read", e);
        }
    }

    private static String readText(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read", e);
        }
    }
}
