package dev.sdjava.bench;

import java.util.List;
import java.util.Map;

/** Just enough JSON output for benchmark reports: maps (in their iteration order), lists, numbers, strings, null. */
final class Json {
    private Json() {
    }

    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb, "");
        return sb.append('\n').toString();
    }

    private static void write(Object value, StringBuilder sb, String indent) {
        switch (value) {
            case null -> sb.append("null");
            case Map<?, ?> map -> {
                if (map.isEmpty()) {
                    sb.append("{}");
                    return;
                }
                String inner = indent + "  ";
                sb.append("{\n");
                int i = 0;
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    sb.append(inner);
                    string(String.valueOf(e.getKey()), sb);
                    sb.append(": ");
                    write(e.getValue(), sb, inner);
                    sb.append(++i < map.size() ? ",\n" : "\n");
                }
                sb.append(indent).append('}');
            }
            case List<?> list -> {
                if (list.isEmpty()) {
                    sb.append("[]");
                    return;
                }
                String inner = indent + "  ";
                sb.append("[\n");
                for (int i = 0; i < list.size(); i++) {
                    sb.append(inner);
                    write(list.get(i), sb, inner);
                    sb.append(i + 1 < list.size() ? ",\n" : "\n");
                }
                sb.append(indent).append(']');
            }
            case Double d -> number(d, sb);
            case Float f -> number(f, sb);
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            default -> string(value.toString(), sb);
        }
    }

    /** NaN and infinities are not JSON: a measurement that produced one is reported as missing. */
    private static void number(double d, StringBuilder sb) {
        if (Double.isFinite(d)) {
            sb.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d));
        } else {
            sb.append("null");
        }
    }

    private static void string(String s, StringBuilder sb) {
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
        sb.append('"');
    }
}
