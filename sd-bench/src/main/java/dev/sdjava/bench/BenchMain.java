package dev.sdjava.bench;

import java.util.List;

/** {@code ./sd bench ...}: kernel and end-to-end benchmarks. */
public final class BenchMain {
    private static final String USAGE = """
            usage: ./sd bench kernels [--quick] [--only REGEX] [--json FILE]
                       JMH benchmarks of the kernels at SD 1.5's shapes, beside this machine's measured FMA peak
                   ./sd bench blocks [--quick] [--only REGEX] [--json FILE]
                       JMH benchmarks of each U-Net block (resnet, transformer, down/upsample) at every level of
                       SD 1.5 at 512x512 with guidance (batch 2), with its share of a U-Net step
                   ./sd bench e2e [--size 512|256|768] [--runs N] [--warmups N] [--json FILE] [--checkpoint FILE] [--no-txt2img] [--vae-tiled]
                       SD 1.5 end to end on random weights of the real shape (written once to .cache/)
                   ./sd bench peak
                       only the FMA peak
            threads: SD_JAVA_OPTS=-Dsd.threads=N (default: all cores); heap: SD_JAVA_OPTS=-Xmx6g (default: 3/4 of memory)""";

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = List.of(args).subList(Math.min(1, args.length), args.length);
        int status;
        try {
            status = switch (args.length == 0 ? "help" : args[0]) {
                case "kernels" -> KernelSuite.run(rest);
                case "blocks" -> BlockSuite.run(rest);
                case "e2e" -> E2eBench.run(rest);
                case "peak" -> {
                    KernelSuite.measurePeak(false, kernelThreads(), System.out);
                    yield 0;
                }
                case "help", "--help", "-h" -> {
                    System.out.println(USAGE);
                    yield 0;
                }
                default -> {
                    System.err.println("sd bench: unknown benchmark '" + args[0] + "'\n" + USAGE);
                    yield 2;
                }
            };
        } catch (IllegalArgumentException e) {
            System.err.println("sd bench: " + e.getMessage());
            status = 2;
        } catch (OutOfMemoryError e) {
            System.err.printf("sd bench: the Java heap (%d MiB) is too small; SD 1.5 at 512x512 needs about 4 GiB"
                    + " in the end-to-end benchmark: SD_JAVA_OPTS=-Xmx6g ./sd bench ...%n", Runtime.getRuntime().maxMemory() >> 20);
            status = 3;
        }
        System.exit(status);
    }

    /** Threads the kernels use: {@code -Dsd.threads}, else every core (as the kernels' pool decides). */
    static int kernelThreads() {
        String p = System.getProperty("sd.threads");
        return p == null || p.isBlank() ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(p.trim());
    }
}
