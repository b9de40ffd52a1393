package dev.sdjava.bench;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

/**
 * One block of the SD 1.x U-Net at one shape, batch aside: a resnet from {@code in} to {@code out} channels, a
 * spatial transformer over {@code in} channels, or a down/upsampler. {@code height × width} is its input's size,
 * {@code outHeight × outWidth} its output's (they differ only for the samplers).
 */
public record UNetBlock(Kind kind, int in, int out, int height, int width, int outHeight, int outWidth) {
    public enum Kind { RESNET, TRANSFORMER, DOWNSAMPLE, UPSAMPLE }

    /**
     * Every block of one U-Net pass over {@code height × width} latents, in the order the U-Net runs them, under
     * its diffusers prefix (e.g. {@code up_blocks.1.resnets.2}). Up resnets take the channels of the path plus those
     * of the skip they concatenate; an upsampler resizes to its next skip's size, as the U-Net does.
     */
    public static SequencedMap<String, UNetBlock> walk(SdArchitecture a, int height, int width) {
        record Skip(int channels, int height, int width) {
        }
        int[] ch = a.unetChannels();
        int levels = ch.length;
        SequencedMap<String, UNetBlock> blocks = new LinkedHashMap<>();
        Deque<Skip> skips = new ArrayDeque<>();
        int h = height, w = width, c = ch[0];
        skips.push(new Skip(c, h, w)); // conv_in's output
        for (int level = 0; level < levels; level++) {
            String p = "down_blocks." + level;
            for (int j = 0; j < a.unetLayers(); j++) {
                blocks.put(p + ".resnets." + j, new UNetBlock(Kind.RESNET, c, ch[level], h, w, h, w));
                c = ch[level];
                if (hasAttention(a, level)) {
                    blocks.put(p + ".attentions." + j, transformer(c, h, w));
                }
                skips.push(new Skip(c, h, w));
            }
            if (level < levels - 1) {
                int oh = (h + 1) / 2, ow = (w + 1) / 2; // 3x3, stride 2, padding 1
                blocks.put(p + ".downsamplers.0", new UNetBlock(Kind.DOWNSAMPLE, c, c, h, w, oh, ow));
                h = oh;
                w = ow;
                skips.push(new Skip(c, h, w));
            }
        }
        blocks.put("mid_block.resnets.0", new UNetBlock(Kind.RESNET, c, c, h, w, h, w));
        blocks.put("mid_block.attentions.0", transformer(c, h, w));
        blocks.put("mid_block.resnets.1", new UNetBlock(Kind.RESNET, c, c, h, w, h, w));
        for (int up = 0; up < levels; up++) {
            int level = levels - 1 - up;
            String p = "up_blocks." + up;
            for (int j = 0; j <= a.unetLayers(); j++) {
                Skip skip = skips.pop();
                blocks.put(p + ".resnets." + j, new UNetBlock(Kind.RESNET, c + skip.channels(), ch[level], h, w, h, w));
                c = ch[level];
                if (hasAttention(a, level)) {
                    blocks.put(p + ".attentions." + j, transformer(c, h, w));
                }
            }
            if (level > 0) {
                Skip next = skips.peek();
                blocks.put(p + ".upsamplers.0", new UNetBlock(Kind.UPSAMPLE, c, c, h, w, next.height(), next.width()));
                h = next.height();
                w = next.width();
            }
        }
        return blocks;
    }

    /** SD 1.x: every level but the deepest has cross-attention transformers. */
    private static boolean hasAttention(SdArchitecture a, int level) {
        return level < a.levels() - 1;
    }

    private static UNetBlock transformer(int channels, int h, int w) {
        return new UNetBlock(Kind.TRANSFORMER, channels, channels, h, w, h, w);
    }

    /** A name for the command line: kind, channels (in and out where they differ), input size, e.g. {@code resnet_960_320_64}. */
    public String name() {
        String channels = in == out ? String.valueOf(in) : in + "_" + out;
        String size = height == width ? String.valueOf(height) : height + "x" + width;
        return kind.name().toLowerCase() + "_" + channels + "_" + size;
    }

    /** E.g. {@code 960->320 @64x64} or {@code 1280 @8x8->16x16}. */
    public String shape() {
        String channels = in == out ? String.valueOf(in) : in + "->" + out;
        String size = height + "x" + width + (outHeight != height || outWidth != width ? "->" + outHeight + "x" + outWidth : "");
        return channels + " @" + size;
    }
}
