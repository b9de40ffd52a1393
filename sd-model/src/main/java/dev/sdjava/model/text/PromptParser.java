package dev.sdjava.model.text;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Turns a prompt into {@link PromptChunks}: token ids and per-token weights, 77 per chunk.
 *
 * <p>{@link PromptSyntax#LITERAL} is diffusers: one chunk, truncated to 75 tokens, weights 1.
 * {@link PromptSyntax#A1111} follows AUTOMATIC1111's webui ({@code prompt_parser.py},
 * {@code sd_hijack_clip.py}):
 * <ul>
 * <li>{@code (text)} multiplies the weight by 1.1, {@code [text]} divides it by 1.1,
 *     {@code (text:1.3)} multiplies by 1.3; nesting multiplies; {@code \( \) \[ \] \\} are literal
 *     characters; an unmatched {@code )} or {@code ]} is literal text, an unclosed {@code (} or
 *     {@code [} applies to the end of the prompt;</li>
 * <li>the prompt is cut into chunks of 75 tokens; a chunk that fills up while a comma lies within
 *     its last 20 tokens ends at that comma instead, the rest moving to the next chunk;</li>
 * <li>{@code BREAK} (upper case, a word of its own) ends the current chunk.</li>
 * </ul>
 * Two deliberate differences, both where A1111 misbehaves: {@code BREAK} inside brackets still ends
 * the chunk (A1111 would tokenize the word "break" with a negative weight), and a weight that is no
 * number, as in {@code (a:1.2.3)}, leaves its {@code :} as text (A1111 raises an error).
 * Textual-inversion embeddings and prompt editing ({@code [a:b:0.5]}) are not handled here.
 */
public final class PromptParser {

    /** A1111's {@code comma_padding_backtrack} default. */
    static final int COMMA_BACKTRACK = 20;
    private static final double ROUND_BRACKET = 1.1;
    private static final double SQUARE_BRACKET = 1 / 1.1;
    private static final Pattern BREAK = Pattern.compile("\\s*\\bBREAK\\b\\s*", Pattern.UNICODE_CHARACTER_CLASS);

    private final ClipTokenizer tokenizer;
    private final PromptSyntax syntax;
    private final int commaId;

    public PromptParser(ClipTokenizer tokenizer, PromptSyntax syntax) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.syntax = Objects.requireNonNull(syntax, "syntax");
        this.commaId = tokenizer.tokenId("," + Bpe.END_OF_WORD);
    }

    /**
     * The chunks of one prompt (at least one; the empty prompt gives {@code [BOS, EOS, pad...]}).
     *
     * @throws NullPointerException if {@code prompt} is null
     */
    public PromptChunks parse(String prompt) {
        Objects.requireNonNull(prompt, "prompt must not be null");
        if (syntax == PromptSyntax.LITERAL) {
            return new PromptChunks(new int[][] {tokenizer.encodeRow(prompt)}, new float[][] {onesRow()});
        }
        Chunker chunker = new Chunker();
        for (Fragment f : parseAttention(prompt)) {
            if (f.isBreak()) {
                chunker.endChunk();
                continue;
            }
            for (int id : tokenizer.encode(f.text())) {
                chunker.add(id, (float) f.weight());
            }
        }
        return chunker.finish();
    }

    /**
     * {@code chunks} followed by empty-prompt chunks up to {@code chunkCount}, as A1111 pads the
     * shorter of prompt and negative prompt so both condition the U-Net with as many tokens.
     */
    public PromptChunks padTo(PromptChunks chunks, int chunkCount) {
        if (chunkCount < chunks.chunkCount()) {
            throw new IllegalArgumentException("chunkCount " + chunkCount + " is less than the prompt's " + chunks.chunkCount() + " chunks");
        }
        int[][] ids = Arrays.copyOf(chunks.ids(), chunkCount);
        float[][] weights = Arrays.copyOf(chunks.weights(), chunkCount);
        for (int c = chunks.chunkCount(); c < chunkCount; c++) {
            ids[c] = tokenizer.row(new int[0]);
            weights[c] = onesRow();
        }
        return new PromptChunks(ids, weights);
    }

    /** Weight 1 for all 77 positions (BOS, EOS and padding always keep weight 1). */
    private static float[] onesRow() {
        float[] w = new float[ClipTokenizer.MAX_LENGTH];
        Arrays.fill(w, 1f);
        return w;
    }

    /** A run of prompt text with its weight, or a BREAK marker. */
    record Fragment(String text, double weight, boolean isBreak) {
        static final Fragment BREAK_MARKER = new Fragment("BREAK", 1.0, true);
    }

    /**
     * A1111's {@code parse_prompt_attention}: the prompt as text runs with weights, adjacent runs of
     * equal weight merged, BREAKs as markers. Weights are doubles multiplied in A1111's order, so
     * they equal its Python floats exactly.
     */
    static List<Fragment> parseAttention(String text) {
        Runs runs = new Runs();
        Deque<Integer> round = new ArrayDeque<>();
        Deque<Integer> square = new ArrayDeque<>();
        int n = text.length();
        for (int i = 0; i < n; ) {
            char c = text.charAt(i);
            if (c == '\\') {
                boolean escape = i + 1 < n && "()[]\\".indexOf(text.charAt(i + 1)) >= 0;
                runs.add(escape ? String.valueOf(text.charAt(i + 1)) : "", 1.0); // a lone backslash vanishes
                i += escape ? 2 : 1;
            } else if (c == '(') {
                round.push(runs.count);
                i++;
            } else if (c == '[') {
                square.push(runs.count);
                i++;
            } else if (c == ':' && weightEnd(text, i) > 0) {
                int end = weightEnd(text, i);
                if (round.isEmpty()) {
                    runs.addText(text.substring(i, end));
                } else {
                    runs.multiply(round.pop(), explicitWeight(text, i, end));
                }
                i = end;
            } else if (c == ')' && !round.isEmpty()) {
                runs.multiply(round.pop(), ROUND_BRACKET);
                i++;
            } else if (c == ']' && !square.isEmpty()) {
                runs.multiply(square.pop(), SQUARE_BRACKET);
                i++;
            } else if (c == ':' || c == ')' || c == ']') {
                runs.addText(String.valueOf(c));
                i++;
            } else {
                int end = i;
                while (end < n && "\\()[]:".indexOf(text.charAt(end)) < 0) {
                    end++;
                }
                runs.addText(text.substring(i, end));
                i = end;
            }
        }
        // Unclosed brackets apply to the end; A1111 walks its stacks bottom to top.
        round.descendingIterator().forEachRemaining(p -> runs.multiply(p, ROUND_BRACKET));
        square.descendingIterator().forEachRemaining(p -> runs.multiply(p, SQUARE_BRACKET));
        return runs.merged();
    }

    /** Text runs and their weights while parsing; a BREAK is a run whose weight is NaN. */
    private static final class Runs {
        final List<String> texts = new ArrayList<>();
        double[] weights = new double[16];
        int count;

        void add(String text, double weight) {
            if (count == weights.length) {
                weights = Arrays.copyOf(weights, 2 * count);
            }
            texts.add(text);
            weights[count++] = weight;
        }

        /** Plain text, split at each BREAK. */
        void addText(String s) {
            String[] parts = BREAK.split(s, -1);
            for (int p = 0; p < parts.length; p++) {
                if (p > 0) {
                    add("BREAK", Double.NaN);
                }
                add(parts[p], 1.0);
            }
        }

        /** Multiplies every run from {@code from} on (a tight primitive loop: deep nesting stays cheap). NaN stays NaN. */
        void multiply(int from, double factor) {
            for (int k = from; k < count; k++) {
                weights[k] *= factor;
            }
        }

        /** Adjacent runs of equal weight joined; a BREAK (NaN) equals nothing. */
        List<Fragment> merged() {
            List<Fragment> out = new ArrayList<>();
            for (int k = 0; k < count; ) {
                if (Double.isNaN(weights[k])) {
                    out.add(Fragment.BREAK_MARKER);
                    k++;
                    continue;
                }
                StringBuilder run = new StringBuilder(texts.get(k));
                int end = k + 1;
                while (end < count && weights[end] == weights[k]) {
                    run.append(texts.get(end++));
                }
                out.add(new Fragment(run.toString(), weights[k], false));
                k = end;
            }
            return out.isEmpty() ? List.of(new Fragment("", 1.0, false)) : out;
        }
    }

    /**
     * End (after the {@code )}) of an explicit weight {@code :\s*([+-]?[.0-9]+)\s*\)} starting at the
     * colon {@code i}, or -1 when there is none or its number does not parse.
     */
    private static int weightEnd(String text, int i) {
        int j = skipSpaces(text, i + 1);
        int numberStart = j;
        if (j < text.length() && (text.charAt(j) == '+' || text.charAt(j) == '-')) {
            j++;
        }
        int digitsStart = j;
        while (j < text.length() && (text.charAt(j) == '.' || (text.charAt(j) >= '0' && text.charAt(j) <= '9'))) {
            j++;
        }
        if (j == digitsStart) {
            return -1;
        }
        int numberEnd = j;
        j = skipSpaces(text, j);
        if (j >= text.length() || text.charAt(j) != ')') {
            return -1;
        }
        try {
            Double.parseDouble(text.substring(numberStart, numberEnd));
        } catch (NumberFormatException e) {
            return -1;
        }
        return j + 1;
    }

    private static double explicitWeight(String text, int colon, int end) {
        return Double.parseDouble(text.substring(colon + 1, end - 1).strip());
    }

    private static int skipSpaces(String text, int j) {
        while (j < text.length() && Character.isWhitespace(text.charAt(j))) {
            j++;
        }
        return j;
    }

    /** A1111's {@code tokenize_line} chunking: 75 tokens per chunk, breaking after a recent comma. */
    private final class Chunker {
        private final List<int[]> ids = new ArrayList<>();
        private final List<float[]> weights = new ArrayList<>();
        private final int[] tokens = new int[ClipTokenizer.CHUNK_LENGTH];
        private final float[] multipliers = new float[ClipTokenizer.CHUNK_LENGTH];
        private int size;
        private int lastComma = -1;

        void add(int token, float weight) {
            if (token == commaId) {
                lastComma = size;
            } else if (size == ClipTokenizer.CHUNK_LENGTH && lastComma != -1 && size - lastComma <= COMMA_BACKTRACK) {
                // Full, with a comma among the last 20 tokens: end the chunk after the comma.
                int moveFrom = lastComma + 1;
                int[] movedTokens = Arrays.copyOfRange(tokens, moveFrom, size);
                float[] movedWeights = Arrays.copyOfRange(multipliers, moveFrom, size);
                size = moveFrom;
                endChunk();
                System.arraycopy(movedTokens, 0, tokens, 0, movedTokens.length);
                System.arraycopy(movedWeights, 0, multipliers, 0, movedWeights.length);
                size = movedTokens.length;
            }
            if (size == ClipTokenizer.CHUNK_LENGTH) {
                endChunk();
            }
            tokens[size] = token;
            multipliers[size++] = weight;
        }

        /** Emits the current chunk, even an empty one (BREAK at the start gives an empty chunk). */
        void endChunk() {
            ids.add(tokenizer.row(Arrays.copyOf(tokens, size)));
            float[] w = onesRow();
            System.arraycopy(multipliers, 0, w, 1, size);
            weights.add(w);
            size = 0;
            lastComma = -1;
        }

        PromptChunks finish() {
            if (size > 0 || ids.isEmpty()) {
                endChunk();
            }
            return new PromptChunks(ids.toArray(int[][]::new), weights.toArray(float[][]::new));
        }
    }
}
