package dev.sdjava.model.text;

/** How {@link PromptParser} reads a prompt (the CLI's {@code --prompt-syntax}). */
public enum PromptSyntax {
    /**
     * AUTOMATIC1111's syntax: {@code (word)} x1.1, {@code [word]} /1.1, {@code (word:1.3)}, nesting
     * multiplies, {@code \(} escapes; {@code BREAK} starts a new chunk; prompts longer than 75
     * tokens become several 75-token chunks.
     */
    A1111,
    /**
     * Plain text as diffusers reads it: one chunk, truncated to 75 tokens, every weight 1.
     * Reproduces StableDiffusionPipeline (and the goldens) exactly.
     */
    LITERAL
}
