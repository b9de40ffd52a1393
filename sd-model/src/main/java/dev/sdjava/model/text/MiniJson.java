package dev.sdjava.model.text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The smallest JSON reader the tokenizer files need (vocab.json, special_tokens_map.json,
 * tokenizer_config.json): objects become {@code Map<String, Object>}, arrays {@code List<Object>},
 * numbers {@code Long} when integral else {@code Double}, plus String, Boolean and null.
 * Recursive descent over a String: a 1 MB vocabulary parses in milliseconds.
 */
final class MiniJson {

    private final char[] text; // an array, not String.charAt: much faster before the JIT warms up
    private final String source;
    private int pos;

    private MiniJson(String text, String source) {
        this.text = text.toCharArray();
        this.source = source;
    }

    /** Parses one JSON document; {@code source} names the file in error messages. */
    static Object parse(String text, String source) {
        MiniJson json = new MiniJson(text, source);
        json.skipWhitespace();
        Object value = json.value(0);
        json.skipWhitespace();
        if (json.pos != json.text.length) {
            throw json.error("trailing characters after the JSON value");
        }
        return value;
    }

    private Object value(int depth) {
        if (depth > 512) {
            throw error("nesting deeper than 512 levels");
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
            case 'n' -> literal("null", null);
            default -> number();
        };
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> map = new LinkedHashMap<>();
        pos++;
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
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            map.put(key, value(depth + 1));
            skipWhitespace();
            if (peek() == ',') {
                pos++;
            } else {
                expect('}');
                return map;
            }
        }
    }

    private List<Object> array(int depth) {
        List<Object> list = new ArrayList<>();
        pos++;
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth + 1));
            skipWhitespace();
            if (peek() == ',') {
                pos++;
            } else {
                expect(']');
                return list;
            }
        }
    }

    private String string() {
        pos++; // opening quote
        int start = pos;
        // Fast path: no escapes, the common case for vocabulary entries.
        while (pos < text.length) {
            char c = text[pos];
            if (c == '"') {
                return new String(text, start, pos++ - start);
            }
            if (c == '\\') {
                break;
            }
            pos++;
        }
        StringBuilder sb = new StringBuilder().append(text, start, pos - start);
        while (pos < text.length) {
            char c = text[pos++];
            if (c == '"') {
                return sb.toString();
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= text.length) {
                break;
            }
            char e = text[pos++];
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length) {
                        throw error("truncated \\u escape");
                    }
                    int code = 0;
                    for (int k = 0; k < 4; k++) {
                        int digit = Character.digit(text[pos + k], 16);
                        if (digit < 0) {
                            throw error("bad \\u escape");
                        }
                        code = code << 4 | digit;
                    }
                    sb.append((char) code);
                    pos += 4;
                }
                default -> throw error("bad escape \\" + e);
            }
        }
        throw error("unterminated string");
    }

    private Object number() {
        int start = pos;
        while (pos < text.length && "+-0123456789.eE".indexOf(text[pos]) >= 0) {
            pos++;
        }
        String s = new String(text, start, pos - start);
        try {
            if (s.indexOf('.') < 0 && s.indexOf('e') < 0 && s.indexOf('E') < 0) {
                return Long.parseLong(s);
            }
            return Double.parseDouble(s);
        } catch (NumberFormatException ex) {
            pos = start;
            throw error("expected a JSON value");
        }
    }

    private Object literal(String word, Object value) {
        if (pos + word.length() > text.length || !word.equals(new String(text, pos, word.length()))) {
            throw error("expected a JSON value");
        }
        pos += word.length();
        return value;
    }

    private void skipWhitespace() {
        while (pos < text.length) {
            char c = text[pos];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            pos++;
        }
    }

    private char peek() {
        return pos < text.length ? text[pos] : '\0';
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(source + ": invalid JSON at character " + pos + ": " + what);
    }
}
