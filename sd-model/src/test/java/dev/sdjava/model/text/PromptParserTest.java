package dev.sdjava.model.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdjava.tensor.Json;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PromptParserTest {

    private static final ClipTokenizer SD1 = ClipTokenizer.bundled(ClipTokenizer.SD1_PAD_TOKEN);
    private static final ClipTokenizer SD2 = ClipTokenizer.bundled(ClipTokenizer.SD2_PAD_TOKEN);
    private static final PromptParser A1111 = new PromptParser(SD1, PromptSyntax.A1111);
    private static final int COMMA = 267;

    private static PromptParser.Fragment text(String text, double weight) {
        return new PromptParser.Fragment(text, weight, false);
    }

    // --- parse_prompt_attention: the examples of A1111's docstring, weights as Python prints them

    @Test
    void a1111DocumentedExamples() {
        assertEquals(List.of(text("normal text", 1.0)), PromptParser.parseAttention("normal text"));
        assertEquals(List.of(text("an ", 1.0), text("important", 1.1), text(" word", 1.0)),
                PromptParser.parseAttention("an (important) word"));
        assertEquals(List.of(text("unbalanced", 1.1)), PromptParser.parseAttention("(unbalanced"));
        assertEquals(List.of(text("(literal]", 1.0)), PromptParser.parseAttention("\\(literal\\]"));
        assertEquals(List.of(text("unnecessaryparens", 1.1)), PromptParser.parseAttention("(unnecessary)(parens)"));
        assertEquals(List.of(
                        text("a ", 1.0),
                        text("house", 1.5730000000000004),
                        text(" ", 1.1),
                        text("on", 1.0),
                        text(" a ", 1.1),
                        text("hill", 0.55),
                        text(", sun, ", 1.1),
                        text("sky", 1.4641000000000006),
                        text(".", 1.1)),
                PromptParser.parseAttention("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky)))."));
    }

    @Test
    void squareBracketsNestingAndEscapes() {
        assertEquals(List.of(text("blurry", 1 / 1.1)), PromptParser.parseAttention("[blurry]"));
        assertEquals(List.of(text("a", 1 / 1.1 / 1.1 / 1.1)), PromptParser.parseAttention("[[[a]]]"));
        assertEquals(List.of(text("x", 1.5 / 1.1)), PromptParser.parseAttention("[(x:1.5)]"));
        assertEquals(List.of(text("blue eyes", 1.3)), PromptParser.parseAttention("(blue eyes: 1.3 )"));
        assertEquals(List.of(text("a\\b", 1.1)), PromptParser.parseAttention("(a\\\\b)"));
        // A lone backslash disappears; unmatched closers and a weight outside brackets stay text.
        assertEquals(List.of(text("ab", 1.0)), PromptParser.parseAttention("a\\b"));
        assertEquals(List.of(text("a) b] c:1.2) d", 1.0)), PromptParser.parseAttention("a) b] c:1.2) d"));
        // Unclosed "(" and "[" run to the end (round first, then square, as A1111 applies them).
        assertEquals(List.of(text("a ", 1.1), text("b", 1.1 / 1.1)), PromptParser.parseAttention("(a [b"));
        // A colon that starts no weight is text; an unparsable weight leaves its colon as text.
        assertEquals(List.of(text("style: oil", 1.1)), PromptParser.parseAttention("(style: oil)"));
        assertEquals(List.of(text("a:1.2.3", 1.1)), PromptParser.parseAttention("(a:1.2.3)"));
        assertEquals(List.of(text("", 1.0)), PromptParser.parseAttention(""));
        assertEquals(List.of(text("", 1.0)), PromptParser.parseAttention("()"));
    }

    @Test
    void breakIsAMarker() {
        PromptParser.Fragment brk = PromptParser.Fragment.BREAK_MARKER;
        assertEquals(List.of(text("a", 1.0), brk, text("b", 1.0)), PromptParser.parseAttention("a BREAK b"));
        assertEquals(List.of(text("BREAKfast, break", 1.0)), PromptParser.parseAttention("BREAKfast, break"));
        assertEquals(List.of(text("", 1.0), brk, text("a", 1.0)), PromptParser.parseAttention("BREAK a"));
        // Inside brackets BREAK still splits (A1111 would weight the word instead).
        assertEquals(List.of(text("x", 1.1), brk, text("y", 1.1)), PromptParser.parseAttention("(x BREAK y)"));
    }

    /** A1111's own results on random prompts (see the resource's description). */
    @Test
    void matchesA1111OnRandomPrompts() throws Exception {
        String json;
        try (var in = PromptParserTest.class.getResourceAsStream("a1111_random_prompts.json")) {
            json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        Map<?, ?> cases = (Map<?, ?>) Json.parse(json, "a1111_random_prompts.json");
        List<?> attention = (List<?>) cases.get("attention");
        assertEquals(400, attention.size());
        for (Object o : attention) {
            Map<?, ?> c = (Map<?, ?>) o;
            List<PromptParser.Fragment> expected = ((List<?>) c.get("fragments")).stream().map(f -> (List<?>) f)
                    .map(f -> "BREAK".equals(f.get(0)) && ((Number) f.get(1)).doubleValue() == -1 ? PromptParser.Fragment.BREAK_MARKER
                            : text((String) f.get(0), ((Number) f.get(1)).doubleValue()))
                    .toList();
            assertEquals(expected, PromptParser.parseAttention((String) c.get("prompt")), () -> "prompt " + c.get("prompt"));
        }
        List<?> chunked = (List<?>) cases.get("chunks");
        assertEquals(120, chunked.size());
        for (Object o : chunked) {
            Map<?, ?> c = (Map<?, ?>) o;
            List<?> ids = (List<?>) c.get("ids");
            List<?> weights = (List<?>) c.get("weights");
            PromptChunks chunks = A1111.parse((String) c.get("prompt"));
            assertEquals(ids.size(), chunks.chunkCount(), () -> "chunks of " + c.get("prompt"));
            for (int k = 0; k < ids.size(); k++) {
                assertArrayEquals(Golden.ints(ids.get(k)), chunks.ids(k), () -> "ids of " + c.get("prompt"));
                List<?> w = (List<?>) weights.get(k);
                float[] expected = new float[w.size()];
                for (int j = 0; j < expected.length; j++) {
                    expected[j] = (float) ((Number) w.get(j)).doubleValue();
                }
                assertArrayEquals(expected, chunks.weights(k), () -> "weights of " + c.get("prompt"));
            }
        }
    }

    // --- chunks

    @Test
    void weightsLandOnTheirTokens() {
        PromptChunks chunks = A1111.parse("a (cat:1.5) and [dog], \\(sic\\)");
        assertEquals(1, chunks.chunkCount());
        int[] plain = SD1.encodeRow("a cat and dog, (sic)");
        assertArrayEquals(plain, chunks.ids(0));
        float[] w = chunks.weights(0);
        int[] tokens = SD1.encode("a cat and dog, (sic)");
        float[] expected = new float[77];
        Arrays.fill(expected, 1f);
        expected[1 + 1] = 1.5f;                  // cat
        expected[1 + 3] = (float) (1 / 1.1);     // dog
        assertEquals(8, tokens.length);
        assertArrayEquals(expected, w);
    }

    @Test
    void breakForcesAChunkBoundary() {
        PromptChunks chunks = A1111.parse("a cat BREAK a dog");
        assertEquals(2, chunks.chunkCount());
        assertArrayEquals(SD1.encodeRow("a cat"), chunks.ids(0));
        assertArrayEquals(SD1.encodeRow("a dog"), chunks.ids(1));
        // A leading BREAK gives an empty first chunk; a trailing one adds nothing.
        PromptChunks edges = A1111.parse("BREAK a BREAK");
        assertEquals(2, edges.chunkCount());
        assertArrayEquals(SD1.encodeRow(""), edges.ids(0));
        assertArrayEquals(SD1.encodeRow("a"), edges.ids(1));
    }

    @Test
    void longPromptsBecomeChunksOf75() {
        PromptChunks chunks = A1111.parse("cat ".repeat(160));
        assertEquals(3, chunks.chunkCount());
        int cat = SD1.encode("cat")[0];
        assertArrayEquals(SD1.row(IntStream.generate(() -> cat).limit(75).toArray()), chunks.ids(0));
        assertArrayEquals(SD1.row(IntStream.generate(() -> cat).limit(75).toArray()), chunks.ids(1));
        assertArrayEquals(SD1.row(IntStream.generate(() -> cat).limit(10).toArray()), chunks.ids(2));
    }

    @Test
    void aFullChunkBreaksAfterACommaWithinItsLast20Tokens() {
        int cat = SD1.encode("cat")[0];
        int dog = SD1.encode("dog")[0];
        // 70 cats, a comma at index 70, 10 dogs: the chunk fills at the 5th dog, so the 4 dogs
        // after the comma move to the second chunk.
        PromptChunks chunks = A1111.parse("cat ".repeat(70) + ", " + "dog ".repeat(10));
        assertEquals(2, chunks.chunkCount());
        int[] first = IntStream.concat(IntStream.generate(() -> cat).limit(70), IntStream.of(COMMA)).toArray();
        assertArrayEquals(SD1.row(first), chunks.ids(0));
        assertArrayEquals(SD1.row(IntStream.generate(() -> dog).limit(10).toArray()), chunks.ids(1));

        // A comma 45 tokens back is too far: a plain cut at 75.
        PromptChunks far = A1111.parse("cat ".repeat(30) + ", " + "dog ".repeat(50));
        int[] cut = IntStream.concat(IntStream.concat(IntStream.generate(() -> cat).limit(30), IntStream.of(COMMA)),
                IntStream.generate(() -> dog).limit(44)).toArray();
        assertArrayEquals(SD1.row(cut), far.ids(0));
        assertArrayEquals(SD1.row(IntStream.generate(() -> dog).limit(6).toArray()), far.ids(1));
    }

    @Test
    void chunkingKeepsEveryTokenOfTheGoldenLongPrompt() {
        for (String model : List.of("tiny-sd1", "tiny-sd2v")) {
            ClipTokenizer tokenizer = model.equals("tiny-sd1") ? SD1 : SD2;
            Golden.Entry e = Golden.tokenizerCases(model).stream()
                    .filter(x -> x.idsUntruncated().length > 77 && x.prompt().startsWith("A cinematic")).findFirst().orElseThrow();
            PromptChunks chunks = new PromptParser(tokenizer, PromptSyntax.A1111).parse(e.prompt());
            assertEquals(2, chunks.chunkCount());
            IntStream.Builder content = IntStream.builder();
            for (int c = 0; c < chunks.chunkCount(); c++) {
                int[] row = chunks.ids(c);
                assertEquals(49406, row[0]);
                int end = 1;
                while (row[end] != 49407) {
                    content.add(row[end++]);
                }
                for (int k = end + 1; k < 77; k++) {
                    assertEquals(tokenizer.padId(), row[k]);
                }
            }
            int[] all = e.idsUntruncated();
            assertArrayEquals(Arrays.copyOfRange(all, 1, all.length - 1), content.build().toArray(), model);
        }
    }

    @Test
    void negativePromptIsPaddedWithEmptyChunks() {
        PromptParser sd2 = new PromptParser(SD2, PromptSyntax.A1111);
        PromptChunks negative = sd2.padTo(sd2.parse(""), 3);
        assertEquals(3, negative.chunkCount());
        int[] empty = new int[77]; // SD 2.x pads with '!' = 0
        empty[0] = 49406;
        empty[1] = 49407;
        float[] ones = new float[77];
        Arrays.fill(ones, 1f);
        for (int c = 0; c < 3; c++) {
            assertArrayEquals(empty, negative.ids(c));
            assertArrayEquals(ones, negative.weights(c));
        }
        PromptChunks two = A1111.parse("a BREAK b");
        assertEquals(two, A1111.padTo(two, 2));
        assertThrows(IllegalArgumentException.class, () -> A1111.padTo(two, 1));
    }

    @Test
    void literalModeReproducesTheGoldens() {
        for (String model : List.of("tiny-sd1", "tiny-sd2v")) {
            PromptParser literal = new PromptParser(ClipTokenizer.fromFolder(Golden.modelFolder(model), "?"), PromptSyntax.LITERAL);
            for (Golden.Entry e : Golden.tokenizerCases(model)) {
                PromptChunks chunks = literal.parse(e.prompt());
                assertEquals(1, chunks.chunkCount());
                assertArrayEquals(e.ids(), chunks.ids(0), () -> model + ": " + e.prompt());
                for (float w : chunks.weights(0)) {
                    assertEquals(1f, w);
                }
            }
        }
    }

    @Test
    void chunksAreImmutable() {
        PromptChunks chunks = A1111.parse("a cat");
        chunks.ids()[0][1] = 7;
        chunks.ids(0)[1] = 7;
        chunks.weights()[0][1] = 7f;
        assertEquals(A1111.parse("a cat"), chunks);
        assertThrows(IllegalArgumentException.class, () -> new PromptChunks(new int[][] {new int[5]}, new float[][] {new float[5]}));
    }

    @Test
    void nullPromptIsAClearError() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> A1111.parse(null));
        assertTrue(e.getMessage().contains("prompt"));
    }

    @Test
    void hostileSyntaxNeverThrows() {
        Random random = new Random(3);
        String alphabet = "()[]\\:.,1 aBREAK-+";
        for (int trial = 0; trial < 200; trial++) {
            StringBuilder sb = new StringBuilder();
            for (int k = random.nextInt(trial < 199 ? 60 : 20_000); k > 0; k--) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            PromptChunks chunks = A1111.parse(sb.toString());
            for (int c = 0; c < chunks.chunkCount(); c++) {
                int[] row = chunks.ids(c);
                assertEquals(49406, row[0]);
                assertTrue(Arrays.stream(row).anyMatch(id -> id == 49407), sb::toString);
            }
        }
        // 10 000 unclosed brackets: A1111's multiply-to-the-end is quadratic, kept to a primitive loop.
        assertTrue(A1111.parse("(a".repeat(10_000)).chunkCount() > 1);
    }
}
