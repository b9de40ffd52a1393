package dev.sdjava.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.tensor.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ClipTokenizerTest {

    private static final ClipTokenizer SD1_BUNDLED = ClipTokenizer.bundled(ClipTokenizer.SD1_PAD_TOKEN);
    private static final ClipTokenizer SD2_BUNDLED = ClipTokenizer.bundled(ClipTokenizer.SD2_PAD_TOKEN);

    static Stream<Arguments> tokenizers() {
        return Stream.of(
                Arguments.of("tiny-sd1", "folder", ClipTokenizer.fromFolder(Golden.modelFolder("tiny-sd1"), ClipTokenizer.SD2_PAD_TOKEN)),
                Arguments.of("tiny-sd2v", "folder", ClipTokenizer.fromFolder(Golden.modelFolder("tiny-sd2v"), ClipTokenizer.SD1_PAD_TOKEN)),
                Arguments.of("tiny-sd1", "bundled", SD1_BUNDLED),
                Arguments.of("tiny-sd2v", "bundled", SD2_BUNDLED));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tokenizers")
    void reproducesEveryGoldenPrompt(String model, String vocab, ClipTokenizer tokenizer) {
        List<Golden.Entry> entries = Golden.tokenizerCases(model);
        assertEquals(33, entries.size());
        for (Golden.Entry e : entries) {
            int[] untruncated = e.idsUntruncated();
            assertArrayEquals(Arrays.copyOfRange(untruncated, 1, untruncated.length - 1), tokenizer.encode(e.prompt()),
                    () -> model + " bpe ids of " + e.prompt());
            assertArrayEquals(e.ids(), tokenizer.encodeRow(e.prompt()), () -> model + " 77-id row of " + e.prompt());
        }
    }

    @Test
    void padTokenComesFromTheFolderConfig() {
        // The defaults passed are deliberately the wrong family: the folder's files must win.
        assertEquals(49407, ClipTokenizer.fromFolder(Golden.modelFolder("tiny-sd1"), "!").padId());
        assertEquals(0, ClipTokenizer.fromFolder(Golden.modelFolder("tiny-sd2v").resolve("tokenizer"), "<|endoftext|>").padId());
        assertEquals(49406, SD1_BUNDLED.bosId());
        assertEquals(49407, SD1_BUNDLED.eosId());
    }

    @Test
    void folderWithoutConfigUsesTheFamilyDefault(@TempDir Path dir) throws IOException {
        Path vocab = Golden.testdata().resolve("clip-vocab");
        Files.copy(vocab.resolve("vocab.json"), dir.resolve("vocab.json"));
        Files.copy(vocab.resolve("merges.txt"), dir.resolve("merges.txt"));
        ClipTokenizer sd2 = ClipTokenizer.fromFolder(dir, ClipTokenizer.SD2_PAD_TOKEN);
        assertEquals(0, sd2.padId());
        assertArrayEquals(new int[] {2781, 0}, sd2.encode("wow!"));
        ClipTokenizer sd1 = ClipTokenizer.fromFolder(dir, ClipTokenizer.SD1_PAD_TOKEN);
        assertEquals(49407, sd1.padId());
        assertArrayEquals(new int[] {2781, 256}, sd1.encode("wow!"));
    }

    @Test
    void bundledVocabularyIsTheStandardOne() {
        Path dir = Golden.testdata().resolve("clip-vocab");
        Map<?, ?> expected = (Map<?, ?>) Golden.json(dir.resolve("vocab.json"));
        List<String[]> merges = ClipTokenizer.parseMerges(readString(dir.resolve("merges.txt")), "merges.txt");
        Map<String, Integer> derived = ClipTokenizer.standardVocab(merges);
        assertEquals(expected.size(), derived.size());
        for (Map.Entry<?, ?> e : expected.entrySet()) {
            assertEquals(((Long) e.getValue()).intValue(), derived.get((String) e.getKey()), () -> "id of " + e.getKey());
        }
        assertEquals(readString(dir.resolve("merges.txt")), readResource("merges.txt"));
        assertEquals(readString(dir.resolve("LICENSE-openai-clip.txt")), readResource("LICENSE-openai-clip.txt"));
    }

    /** transformers' ids (no ftfy / html.unescape), including the 8 prompts where OpenAI's differ. */
    @Test
    void followsTransformersNotOpenAiCleanUp() {
        Map<?, ?> check = (Map<?, ?>) Golden.json(Golden.testdata().resolve("clip-vocab/tokenizer_check.json"));
        int differing = 0;
        for (Object o : (List<?>) check.get("results")) {
            Map<?, ?> r = (Map<?, ?>) o;
            boolean same = (Boolean) r.get("same");
            int[] expected = Golden.ints(r.get(same ? "openai_ids" : "hf_ids"));
            String prompt = (String) r.get("prompt");
            int[] actual = SD1_BUNDLED.encode(prompt);
            assertArrayEquals(Arrays.copyOfRange(expected, 1, expected.length - 1), actual, () -> "ids of " + prompt);
            differing += same ? 0 : 1;
        }
        assertEquals(8, differing);
    }

    /** 302 random, mostly hostile prompts against transformers' ids (see the file's description). */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tokenizers")
    void matchesTransformersOnRandomPrompts(String model, String vocab, ClipTokenizer tokenizer) {
        Map<?, ?> cases = (Map<?, ?>) Json.parse(readResource("transformers_random_prompts.json"), "transformers_random_prompts.json");
        List<?> prompts = (List<?>) cases.get("prompts");
        List<?> expected = (List<?>) cases.get(model);
        assertEquals(302, prompts.size());
        for (int i = 0; i < prompts.size(); i++) {
            String prompt = (String) prompts.get(i);
            assertArrayEquals(Golden.ints(expected.get(i)), tokenizer.encode(prompt), () -> model + " ids of " + prompt.codePoints()
                    .mapToObj(cp -> cp >= 32 && cp < 127 ? Character.toString(cp) : String.format("\\u{%x}", cp)).collect(Collectors.joining()));
        }
    }

    @Test
    void specialTokensTypedInThePromptBecomeSpecialIds() {
        assertArrayEquals(new int[] {320, 49407, 2368}, SD1_BUNDLED.encode("a<|endoftext|>cat"));
        // Matched before lower-casing, as transformers does: upper case is ordinary text, split
        // "<|", "endoftext", "|>" by the byte-level step (ids from transformers 5.18).
        assertArrayEquals(new int[] {27, 347, 40786, 4160, 91, 285, 287}, SD1_BUNDLED.encode("<|ENDOFTEXT|>@"));
        // SD 2.x's pad token '!' is special too (golden README §11); SD 1.x's '!' is ordinary BPE.
        assertArrayEquals(new int[] {2781, 0, 0}, SD2_BUNDLED.encode("wow!!"));
        assertArrayEquals(new int[] {2781, 748}, SD1_BUNDLED.encode("wow!!"));
    }

    @Test
    void longPromptRowIsTruncatedToBosSeventyFiveEos() {
        String prompt = "cat ".repeat(200);
        int[] bpe = SD1_BUNDLED.encode(prompt);
        assertEquals(200, bpe.length);
        int[] row = SD2_BUNDLED.encodeRow(prompt);
        assertEquals(77, row.length);
        assertEquals(49406, row[0]);
        assertEquals(49407, row[76]);
        assertTrue(Arrays.stream(row, 1, 76).allMatch(id -> id == bpe[0]));
    }

    @Test
    void nullPromptIsAClearError() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> SD1_BUNDLED.encode(null));
        assertTrue(e.getMessage().contains("prompt"));
    }

    @Test
    void missingFilesNameTheFolder(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.fromFolder(dir, "!"));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("vocab.json"), e.getMessage());
    }

    @Test
    void padTokenOutsideTheVocabularyIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClipTokenizer.bundled("<pad>"));
        assertTrue(e.getMessage().contains("<pad>"), e.getMessage());
    }

    /**
     * Hostile input: huge prompts, a 100 000-letter word (O(n²) BPE would take minutes), lone
     * surrogates and control characters. The generous timeout only catches a quadratic blow-up.
     */
    @Test
    void hostileInputIsFastAndNeverThrows() {
        Random random = new Random(42);
        StringBuilder mixed = new StringBuilder();
        while (mixed.length() < 120_000) {
            mixed.appendCodePoint(random.nextInt(random.nextBoolean() ? 0x80 : 0x11000));
        }
        String unit = "masterpiece, (best:1.2) quality! ";
        String[] tokenOfId = new String[49408];
        ClipTokenizer.standardVocab(ClipTokenizer.parseMerges(readResource("merges.txt"), "merges.txt"))
                .forEach((token, id) -> tokenOfId[id] = token);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertTrue(SD2_BUNDLED.encode(mixed.toString()).length > 10_000);
            assertTrue(SD2_BUNDLED.encode("\uD800 \uDFFF\u0000\u0007\uFEFF").length > 0);

            int[] word = SD1_BUNDLED.encode("a".repeat(100_000));
            assertEquals("a".repeat(100_000) + "</w>",
                    Arrays.stream(word).mapToObj(id -> tokenOfId[id]).collect(Collectors.joining()));

            int[] once = SD1_BUNDLED.encode(unit);
            int[] many = SD1_BUNDLED.encode(unit.repeat(4_000));
            assertEquals(once.length * 4_000, many.length);
            for (int i = 0; i < many.length; i++) {
                assertEquals(once[i % once.length], many[i]);
            }
        });
    }

    /** The heap-based merge loop against the textbook loop (OpenAI's simple_tokenizer) on random words. */
    @Test
    void heapMergeEqualsTextbookBpe() {
        List<String[]> merges = ClipTokenizer.parseMerges(readResource("merges.txt"), "merges.txt");
        Map<String, Integer> vocab = ClipTokenizer.standardVocab(merges);
        Map<String, Integer> rank = new java.util.HashMap<>();
        for (int r = 0; r < merges.size(); r++) {
            rank.putIfAbsent(merges.get(r)[0] + " " + merges.get(r)[1], r);
        }
        Bpe bpe = new Bpe(vocab, merges, "test");
        Random random = new Random(7);
        String alphabet = "aeinorst'!é漢";
        for (int trial = 0; trial < 3_000; trial++) {
            StringBuilder word = new StringBuilder();
            for (int len = 1 + random.nextInt(24); len > 0; len--) {
                // mostly common letters, so that long merge chains form
                word.append(alphabet.charAt(random.nextInt(random.nextInt(4) == 0 ? alphabet.length() : 8)));
            }
            String w = word.toString();
            int[] expected = textbookBpe(w, rank).stream().mapToInt(vocab::get).toArray();
            assertArrayEquals(expected, bpe.encodePiece(w), () -> "bpe of " + w);
        }
    }

    /** OpenAI's loop: merge every occurrence of the best-ranked bigram, left to right, until none. */
    private static List<String> textbookBpe(String piece, Map<String, Integer> rank) {
        char[] table = Bpe.byteToUnicode();
        List<String> word = new ArrayList<>();
        for (byte b : piece.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            word.add(String.valueOf(table[b & 0xFF]));
        }
        word.set(word.size() - 1, word.getLast() + Bpe.END_OF_WORD);
        while (word.size() > 1) {
            String best = null;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = rank.get(word.get(i) + " " + word.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = word.get(i) + " " + word.get(i + 1);
                }
            }
            if (best == null) {
                break;
            }
            List<String> merged = new ArrayList<>();
            for (int i = 0; i < word.size(); i++) {
                if (i + 1 < word.size() && (word.get(i) + " " + word.get(i + 1)).equals(best)) {
                    merged.add(word.get(i) + word.get(i + 1));
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word = merged;
        }
        return word;
    }

    private static String readString(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String readResource(String name) {
        try (var in = ClipTokenizer.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
