package dev.sdjava.sampling;

import java.util.Arrays;

/** How prompt text is read. */
public enum PromptSyntax {
    /**
     * A1111's: {@code (word:1.3)}, {@code (word)} = ×1.1, {@code [word]} = ÷1.1, {@code BREAK} starts a
     * new 75-token chunk, and prompts of any length are encoded chunk by chunk. The default.
     */
    A1111("a1111"),
    /** The text as it is, truncated to 75 tokens: what diffusers does, and what reproduces its images. */
    LITERAL("literal");

    private final String id;

    PromptSyntax(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static PromptSyntax of(String id) {
        for (PromptSyntax s : values()) {
            if (s.id.equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown prompt syntax \"" + id + "\"; expected one of "
                + Arrays.stream(values()).map(PromptSyntax::id).toList());
    }
}
