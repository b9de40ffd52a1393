package dev.sdjava.tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's one JSON reader and writer: a small strict (RFC 8259) parser for safetensors
 * headers, index files, diffusers configs, tokenizer files and golden sidecars, and a writer.
 *
 * <p>Values map to: object -> {@code Map<String, Object>} (insertion ordered), array ->
 * {@code List<Object>}, string -> {@code String}, integer literal that fits a long ->
 * {@code Long}, any other number -> {@code Double} (so read numbers as {@link Number}),
 * true/false -> {@code Boolean}, null -> {@link #NULL}. Strict: duplicate keys, lone
 * surrogates, control characters in strings, leading zeros, NaN, trailing garbage and nesting
 * deeper than {@link #MAX_DEPTH} are errors, because a header is untrusted input.
 */
public final class Json {
    /** Deep enough for any real file (headers nest 3 levels), shallow enough that recursion cannot overflow the stack. */
    public static final int MAX_DEPTH = 64;

    /** JSON null; a sentinel so that maps never hold Java null and a present null differs from an absent key. */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /**
     * Malformed JSON. Unchecked, like other bad-input errors: callers that can add context (which
     * file, which part of it) catch it; the message names the source when one was given.
     */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final String reason;
        private final int offset;

        ParseException(String source, String reason, int offset) {
            super((source == null ? "" : source + ": ") + "invalid JSON at character " + offset + ": " + reason);
            this.reason = reason;
            this.offset = offset;
        }

        /** What was wrong, e.g. {@code expected ',' or '}'}. */
        public String reason() {
            return reason;
        }

        /** The character offset (in UTF-16 units) where it was found. */
        public int offset() {
            return offset;
        }
    }

    private final char[] text; // an array, not String.charAt: several times faster before the JIT warms up
    private final String source;
    private int pos;

    private Json(String text, String source) {
        this.text = text.toCharArray();
        this.source = source;
    }

    /** Parses one JSON value; only whitespace may follow it. */
    public static Object parse(String text) {
        return parse(text, null);
    }

    /** As {@link #parse(String)}; {@code source} (a file name, say) starts the message of any error. */
    public static Object parse(String text, String source) {
        Json p = new Json(text, source);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != p.text.length) {
            throw p.error("unexpected trailing characters");
        }
        return value;
    }

    /** Reads and parses a UTF-8 file; a {@link ParseException} names the file. */
    public static Object read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    private Object value(int depth) {
        if (depth >= MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        if (pos >= text.length) {
            throw error("unexpected end of input");
        }
        char c = text[pos];
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected character " + printable(c));
            }
        };
    }

    private Map<String, Object> object(int depth) {
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a string key");
            }
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth + 1);
            if (map.putIfAbsent(key, v) != null) {
                pos = keyAt;
                throw error("duplicate key \"" + key + "\"");
            }
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth + 1));
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == ']') {
                return list;
            }
            if (c != ',') {
                pos--;
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        int start = pos;
        // Fast path for strings without escapes, nearly all of a 1 MB tokenizer vocabulary.
        while (pos < text.length) {
            char c = text[pos];
            if (c == '"') {
                return new String(text, start, pos++ - start);
            }
            if (c == '\\' || c < 0x20 || Character.isSurrogate(c)) {
                break; // the general loop below checks and decodes the rest
            }
            pos++;
        }
        StringBuilder sb = new StringBuilder().append(text, start, pos - start);
        while (true) {
            if (pos >= text.length) {
                throw error("unterminated string");
            }
            char c = text[pos++];
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("unescaped control character " + printable(c) + " in string");
            }
            if (c == '\\') {
                c = escape();
            }
            if (Character.isHighSurrogate(c)) {
                char low = pos < text.length && text[pos] == '\\' ? lowSurrogateEscape() : charOrEnd();
                if (!Character.isLowSurrogate(low)) {
                    throw error("high surrogate not followed by a low surrogate");
                }
                sb.append(c).append(low);
            } else if (Character.isLowSurrogate(c)) {
                pos--;
                throw error("lone low surrogate");
            } else {
                sb.append(c);
            }
        }
    }

    private char charOrEnd() {
        return pos < text.length ? text[pos++] : 0;
    }

    private char lowSurrogateEscape() {
        pos++; // backslash
        return escape();
    }

    /** Decodes the escape after a backslash. */
    private char escape() {
        if (pos >= text.length) {
            throw error("unterminated escape");
        }
        char e = text[pos++];
        return switch (e) {
            case '"' -> '"';
            case '\\' -> '\\';
            case '/' -> '/';
            case 'b' -> '\b';
            case 'f' -> '\f';
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'u' -> {
                if (pos + 4 > text.length) {
                    throw error("truncated \\u escape");
                }
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int d = Character.digit(text[pos + i], 16);
                    if (d < 0) {
                        throw error("bad hex digit in \\u escape");
                    }
                    v = v * 16 + d;
                }
                pos += 4;
                yield (char) v;
            }
            default -> {
                pos--;
                throw error("invalid escape \\" + printable(e));
            }
        };
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("expected a digit");
        }
        boolean integer = true;
        if (peek() == '.') {
            pos++;
            integer = false;
            if (!isDigit(peek())) {
                throw error("expected a digit after '.'");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            integer = false;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            digits();
        }
        String s = new String(text, start, pos - start);
        if (!integer) {
            return Double.parseDouble(s);
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException tooLarge) {
            return Double.parseDouble(s); // callers needing an exact integer reject it as out of range
        }
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private Object literal(String word, Object value) {
        if (pos + word.length() > text.length || !word.equals(new String(text, pos, word.length()))) {
            throw error("invalid literal");
        }
        pos += word.length();
        return value;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    /** The current character, or 0 at the end (0 is never valid outside strings). */
    private char peek() {
        return pos < text.length ? text[pos] : 0;
    }

    private void skipWhitespace() {
        while (pos < text.length) {
            char c = text[pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private ParseException error(String message) {
        return new ParseException(source, message, pos);
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    // ---- writing ----

    /** Appends {@code s} as a JSON string literal (quotes, backslashes and ASCII controls escaped). */
    static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }

    /**
     * Writes {@code value} compactly, so that {@link #parse} gives it back: the kinds {@code parse}
     * returns, plus Java null, other {@link Number}s and any other object as the string of its
     * {@code toString()}. Map keys are written as strings; NaN and infinities (not JSON) as null.
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, null);
        return sb.toString();
    }

    /**
     * Writes {@code value} for people (benchmark reports): two-space indentation, a final newline,
     * and whole doubles without a fraction ({@code 2.0} as {@code 2}).
     */
    public static String writeIndented(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, "");
        return sb.append('\n').toString();
    }

    /** {@code indent} is null for compact output, else the current line's indentation. */
    private static void write(StringBuilder sb, Object value, String indent) {
        String inner = indent == null ? null : indent + "  ";
        switch (value) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Map<?, ?> m -> {
                sb.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    newline(sb.append(sep), inner);
                    quote(sb, String.valueOf(e.getKey())).append(indent == null ? ":" : ": ");
                    write(sb, e.getValue(), inner);
                    sep = ",";
                }
                newline(sb, m.isEmpty() ? null : indent).append('}');
            }
            case List<?> l -> {
                sb.append('[');
                String sep = "";
                for (Object o : l) {
                    newline(sb.append(sep), inner);
                    write(sb, o, inner);
                    sep = ",";
                }
                newline(sb, l.isEmpty() ? null : indent).append(']');
            }
            case Double d -> number(sb, d, indent != null);
            case Float f -> number(sb, f, indent != null);
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            default -> {
                if (value == NULL) {
                    sb.append("null");
                } else {
                    quote(sb, value.toString());
                }
            }
        }
    }

    private static StringBuilder newline(StringBuilder sb, String indent) {
        return indent == null ? sb : sb.append('\n').append(indent);
    }

    private static void number(StringBuilder sb, double d, boolean wholeAsInteger) {
        if (!Double.isFinite(d)) {
            sb.append("null"); // a measurement that produced NaN is reported as missing
        } else if (wholeAsInteger && d == Math.rint(d) && Math.abs(d) < 1e15) {
            sb.append((long) d);
        } else {
            sb.append(d);
        }
    }
}
