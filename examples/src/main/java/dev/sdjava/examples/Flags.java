package dev.sdjava.examples;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} command-line flags, checked against the names a command knows. Every problem
 * is an {@link IllegalArgumentException} whose message names the flag and what was expected.
 */
final class Flags {
    private final Map<String, String> values = new HashMap<>();

    Flags(List<String> args, Set<String> known) {
        for (int i = 0; i < args.size(); i++) {
            String flag = args.get(i);
            if (!known.contains(flag)) {
                throw new IllegalArgumentException((flag.startsWith("-") ? "unknown flag " : "unexpected argument ")
                        + "\"" + flag + "\"; known flags: " + known.stream().sorted().toList());
            }
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            if (values.put(flag, args.get(++i)) != null) {
                throw new IllegalArgumentException(flag + " is given twice");
            }
        }
    }

    boolean has(String flag) {
        return values.containsKey(flag);
    }

    String string(String flag, String otherwise) {
        return values.getOrDefault(flag, otherwise);
    }

    int integer(String flag, int otherwise) {
        String v = values.get(flag);
        try {
            return v == null ? otherwise : Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": expected a whole number, got \"" + v + "\"");
        }
    }

    long longValue(String flag, long otherwise) {
        String v = values.get(flag);
        try {
            return v == null ? otherwise : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": expected a whole number, got \"" + v + "\"");
        }
    }

    double decimal(String flag, double otherwise) {
        String v = values.get(flag);
        try {
            return v == null ? otherwise : Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": expected a number, got \"" + v + "\"");
        }
    }
}
