package dev.sdjava.tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON (RFC 8259) parser and writer for safetensors headers and index files.
 *
 * <p>Values map to: object -> {@code Map<String, Object>} (insertion ordered), array ->
 * {@code List<Object>}, string -> {@code String}, integer literal that fits a long ->
 * {@code Long}, any other number -> {@code Double}, true/false ->
 * {@code Boolean}, null -> {@link #NULL}. Strict: duplicate keys, lone surrogates, control
 * characters in strings, leading zeros, trailing garbage and nesting deeper than
 * {@link #MAX_DEPTH} are errors, because a header is untrusted input.
 */
final class Json {
    /** Deep enough for any real header (depth 3), shallow enough that recursion cannot overflow the stack. */
    static final int MAX_DEPTH = 64;

    /** JSON null; a sentinel so that maps never hold Java null. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A syntax error, with the character offset where it was found. */
    static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message, int offset) {
            super(message + " at character " + offset);
        }
    }

    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parses one JSON value; only whitespace may follow it. */
    static Object parse(String text) throws ParseException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected trailing characters");
        }
        return value;
    }

    private Object value(int depth) throws ParseException {
        if (depth >= MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        if (pos >= text.length()) {
            throw error("unexpected end of input");
        }
        char c = text.charAt(pos);
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

    private Map<String, Object> object(int depth) throws ParseException {
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

    private List<Object> array(int depth) throws ParseException {
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

    private String string() throws ParseException {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
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
                char low = pos < text.length() && text.charAt(pos) == '\\' ? lowSurrogateEscape() : charOrEnd();
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
        return pos < text.length() ? text.charAt(pos++) : 0;
    }

    private char lowSurrogateEscape() throws ParseException {
        pos++; // backslash
        return escape();
    }

    /** Decodes the escape after a backslash. */
    private char escape() throws ParseException {
        if (pos >= text.length()) {
            throw error("unterminated escape");
        }
        char e = text.charAt(pos++);
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
                if (pos + 4 > text.length()) {
                    throw error("truncated \\u escape");
                }
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int d = Character.digit(text.charAt(pos + i), 16);
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

    private Object number() throws ParseException {
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
        String s = text.substring(start, pos);
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

    private Object literal(String word, Object value) throws ParseException {
        if (!text.startsWith(word, pos)) {
            throw error("invalid literal");
        }
        pos += word.length();
        return value;
    }

    private void expect(char c) throws ParseException {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    /** The current character, or 0 at the end (0 is never valid outside strings). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : 0;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private ParseException error(String message) {
        return new ParseException(message, pos);
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    // ---- writing ----

    /** Appends {@code s} as a JSON string literal (ASCII controls and lone surrogates escaped). */
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

    /** Writes a value of the kinds {@link #parse} returns (used for index-file metadata such as total_size). */
    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value) {
        switch (value) {
            case String s -> quote(sb, s);
            case Map<?, ?> m -> {
                sb.append('{');
                String sep = "";
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    quote(sb.append(sep), (String) e.getKey()).append(':');
                    write(sb, e.getValue());
                    sep = ",";
                }
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                String sep = "";
                for (Object o : l) {
                    sb.append(sep);
                    write(sb, o);
                    sep = ",";
                }
                sb.append(']');
            }
            default -> sb.append(value);
        }
    }
}
