package dev.sdjava.examples;

import dev.sdjava.tensor.SafeTensors;
import dev.sdjava.tensor.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code ./sd inspect CHECKPOINT}: every tensor's name, dtype and shape and the metadata, for a
 * .safetensors file, a sharded {@code .safetensors.index.json}, or a diffusers folder (each
 * component file in turn).
 */
final class Inspect implements Command {
    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public String usage() {
        return "inspect CHECKPOINT";
    }

    @Override
    public String summary() {
        return "list a checkpoint's tensors (name, dtype, shape) and metadata";
    }

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.size() != 1) {
            err.println("usage: ./sd " + usage() + "   (a .safetensors file, an .index.json or a diffusers folder)");
            return 2;
        }
        Path target = Path.of(args.getFirst());
        try {
            List<Path> files = Files.isDirectory(target) ? components(target) : List.of(target);
            for (Path f : files) {
                try (SafeTensors st = SafeTensors.open(f)) {
                    print(st, Files.isDirectory(target) ? target.relativize(f).toString() : f.toString(), out);
                }
            }
            return 0;
        } catch (NoSuchFileException e) {
            err.println("sd inspect: no such file: " + e.getFile());
        } catch (AccessDeniedException e) {
            err.println("sd inspect: permission denied: " + e.getFile());
        } catch (IOException e) {
            err.println("sd inspect: " + e.getMessage()); // SafeTensorsFormatException names file and tensor
        }
        return 1;
    }

    /**
     * The checkpoint files of a diffusers folder, sorted. Where a folder holds an index, its
     * shards (HF names them {@code *-00001-of-00003.safetensors}) are shown through the index.
     */
    static List<Path> components(Path folder) throws IOException {
        List<Path> found;
        try (Stream<Path> walk = Files.walk(folder, 2)) {
            found = walk.filter(p -> p.getFileName().toString().endsWith(".safetensors")
                    || p.getFileName().toString().endsWith(".safetensors.index.json")).sorted().toList();
        }
        List<Path> components = new ArrayList<>();
        for (Path p : found) {
            boolean indexed = found.stream().anyMatch(q -> q.getParent().equals(p.getParent())
                    && q.getFileName().toString().endsWith(".index.json"));
            if (!(indexed && p.getFileName().toString().matches(".*-\\d{5}-of-\\d{5}\\.safetensors"))) {
                components.add(p);
            }
        }
        if (components.isEmpty()) {
            throw new IOException("no .safetensors files in folder " + folder);
        }
        return components;
    }

    private static void print(SafeTensors st, String title, PrintStream out) {
        long parameters = 0;
        int nameWidth = 0;
        for (String name : st.names()) {
            parameters += st.tensor(name).numel();
            nameWidth = Math.max(nameWidth, name.length());
        }
        out.printf("== %s: %d tensors, %,d parameters%n", title, st.names().size(), parameters);
        if (st.metadata().isEmpty()) {
            out.println("metadata: none");
        } else {
            out.println("metadata:");
            for (Map.Entry<String, String> m : st.metadata().entrySet()) {
                out.println("  " + m.getKey() + " = " + m.getValue());
            }
        }
        for (String name : st.names()) {
            Tensor t = st.tensor(name);
            out.printf("  %-" + nameWidth + "s  %-7s %s%n", name, t.dtype(), Arrays.toString(t.shape()));
        }
    }
}
