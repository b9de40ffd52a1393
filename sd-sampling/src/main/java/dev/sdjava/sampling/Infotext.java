package dev.sdjava.sampling;

import dev.sdjava.model.text.PromptSyntax;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The generation parameters as A1111 writes them into its PNGs ("infotext"): the prompt, then
 * {@code Negative prompt: …}, then one line of {@code Key: value} pairs. Tools that read A1111 PNGs
 * (its PNG Info tab, civitai, ComfyUI loaders) understand this text.
 */
public final class Infotext {
    private Infotext() {
    }

    /**
     * @param request   the request as it ran (model defaults resolved)
     * @param seed      the seed of this image
     * @param modelName the checkpoint's name (file name without extension), or null
     * @param modelHash A1111's short model hash (first 10 hex digits of the file's SHA-256), or null
     */
    public static String of(GenerationRequest request, long seed, String modelName, String modelHash) {
        StringBuilder sb = new StringBuilder(request.prompt());
        if (!request.negativePrompt().isEmpty()) {
            sb.append("\nNegative prompt: ").append(request.negativePrompt());
        }
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("Steps", Integer.toString(request.steps()));
        fields.put("Sampler", samplerName(request.sampler()));
        fields.put("Schedule type", scheduleName(request.schedule()));
        fields.put("CFG scale", number(request.guidanceScale()));
        fields.put("Seed", Long.toString(seed));
        fields.put("Size", request.width() + "x" + request.height());
        if (modelHash != null) {
            fields.put("Model hash", modelHash);
        }
        if (modelName != null) {
            fields.put("Model", modelName);
        }
        if (request.isImg2img()) {
            fields.put("Denoising strength", number(request.strength()));
        }
        if (request.clipSkip() != 1) {
            fields.put("Clip skip", Integer.toString(request.clipSkip()));
        }
        if (request.promptSyntax() == PromptSyntax.LITERAL) {
            fields.put("Prompt syntax", "literal");
        }
        fields.put("Version", "sd-java");
        StringJoiner line = new StringJoiner(", ");
        fields.forEach((k, v) -> line.add(k + ": " + quote(v)));
        return sb.append('\n').append(line).toString();
    }

    /** The sampler as A1111 names it. */
    public static String samplerName(SamplerKind kind) {
        return switch (kind) {
            case EULER -> "Euler";
            case EULER_A -> "Euler a";
            case HEUN -> "Heun";
            case DPMPP_2M -> "DPM++ 2M";
            case DPMPP_2M_SDE -> "DPM++ 2M SDE";
            case DDIM -> "DDIM";
            case PNDM -> "PLMS";
            case LMS -> "LMS";
            case LCM -> "LCM";
        };
    }

    private static String scheduleName(ScheduleKind kind) {
        return switch (kind) {
            case DEFAULT -> "Automatic";
            case KARRAS -> "Karras";
            case EXPONENTIAL -> "Exponential";
        };
    }

    /** 7 rather than 7.0, as A1111 prints it. */
    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** A1111 quotes values that would break the "k: v, k: v" line. */
    private static String quote(String v) {
        if (v.indexOf(',') < 0 && v.indexOf(':') < 0 && v.indexOf('\n') < 0 && v.indexOf('"') < 0) {
            return v;
        }
        return '"' + v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
