package dev.sdjava.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The few scalar keys sd-java needs from an LDM inference yaml ({@code v1-inference.yaml} style):
 * {@code num_heads}, {@code num_head_channels}, {@code context_dim}, {@code parameterization},
 * {@code linear_start}, {@code linear_end}, {@code timesteps}, {@code scale_factor}. Read line by line,
 * first occurrence wins: each of these keys appears once in those files. Not a YAML parser.
 */
final class LdmYaml {
    private final Path path;
    private final Map<String, String> values = new HashMap<>();

    private LdmYaml(Path path) {
        this.path = path;
    }

    static LdmYaml read(Path path) {
        LdmYaml yaml = new LdmYaml(path);
        try {
            for (String line : Files.readAllLines(path)) {
                int hash = line.indexOf('#');
                String content = (hash >= 0 ? line.substring(0, hash) : line).trim();
                int colon = content.indexOf(':');
                if (colon > 0) {
                    String value = content.substring(colon + 1).trim().replace("\"", "").replace("'", "");
                    if (!value.isEmpty()) {
                        yaml.values.putIfAbsent(content.substring(0, colon).trim(), value);
                    }
                }
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + path + ": " + e.getMessage(), e);
        }
        return yaml;
    }

    Path path() {
        return path;
    }

    String string(String key) {
        return values.get(key);
    }

    /** The number under {@code key}, or null if absent. */
    Double number(String key) {
        String v = values.get(key);
        if (v == null) {
            return null;
        }
        try {
            return Double.valueOf(v);
        } catch (NumberFormatException e) {
            throw new CheckpointException(path + ": " + key + " should be a number, is \"" + v + "\"");
        }
    }
}
