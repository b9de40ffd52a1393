package dev.sdjava.sampling;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import org.w3c.dom.Node;

/**
 * PNG files carrying the generation parameters the way A1111 writes them: a text chunk with the
 * keyword {@code parameters}, so the tools people use (A1111's PNG Info, ComfyUI, civitai) show the
 * settings. Latin-1 text goes into {@code tEXt}; anything else (CJK prompts, emoji) into UTF-8 {@code iTXt},
 * as PIL does.
 */
public final class PngFiles {
    private static final String FORMAT = "javax_imageio_png_1.0";
    public static final String KEYWORD = "parameters";

    private PngFiles() {
    }

    /** Writes {@code image} with its {@code parameters} text to {@code file}, atomically (temp file, then rename). */
    public static void write(BufferedImage image, String parameters, Path file) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try {
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), null);
            metadata.mergeTree(FORMAT, textTree(parameters));
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            // Not Files.createTempFile: its files are owner-only (0600), and the rename would pass that on.
            Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                try (OutputStream os = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW);
                     ImageOutputStream out = ImageIO.createImageOutputStream(os)) {
                    writer.setOutput(out);
                    writer.write(new IIOImage(image, null, metadata));
                }
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IIOInvalidTreeException e) {
            throw new IllegalStateException("PNG metadata rejected", e);
        } finally {
            writer.dispose();
        }
    }

    /** The {@code parameters} text of a PNG, if it has one. */
    public static Optional<String> readParameters(Path file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(file + ": not an image ImageIO can read");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                Node root = reader.getImageMetadata(0).getAsTree(FORMAT);
                return findText(root);
            } finally {
                reader.dispose();
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static IIOMetadataNode textTree(String parameters) {
        IIOMetadataNode root = new IIOMetadataNode(FORMAT);
        if (StandardCharsets.ISO_8859_1.newEncoder().canEncode(parameters)) {
            IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
            entry.setAttribute("keyword", KEYWORD);
            entry.setAttribute("value", parameters);
            IIOMetadataNode text = new IIOMetadataNode("tEXt");
            text.appendChild(entry);
            root.appendChild(text);
        } else {
            IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
            entry.setAttribute("keyword", KEYWORD);
            entry.setAttribute("compressionFlag", "FALSE");
            entry.setAttribute("compressionMethod", "0");
            entry.setAttribute("languageTag", "");
            entry.setAttribute("translatedKeyword", "");
            entry.setAttribute("text", parameters);
            IIOMetadataNode text = new IIOMetadataNode("iTXt");
            text.appendChild(entry);
            root.appendChild(text);
        }
        return root;
    }

    private static Optional<String> findText(Node node) {
        for (Node child = node.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (child instanceof IIOMetadataNode element) {
                String name = element.getNodeName();
                if (KEYWORD.equals(element.getAttribute("keyword"))) {
                    if (name.equals("tEXtEntry")) {
                        return Optional.of(element.getAttribute("value"));
                    }
                    if (name.equals("iTXtEntry")) {
                        return Optional.of(element.getAttribute("text"));
                    }
                }
                Optional<String> deeper = findText(element);
                if (deeper.isPresent()) {
                    return deeper;
                }
            }
        }
        return Optional.empty();
    }
}
