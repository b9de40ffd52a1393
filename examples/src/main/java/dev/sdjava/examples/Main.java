package dev.sdjava.examples;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/** {@code ./sd COMMAND ...}: the command-line interface, a dispatcher over {@link Command}s. */
public final class Main {
    /** Every subcommand, in the order {@code ./sd help} lists them. */
    static final List<Command> COMMANDS = List.of(new Generate(false), new Generate(true), new Inspect());

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line and returns its exit status: 0 ok, 1 the command failed, 2 bad usage. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || List.of("help", "-h", "--help").contains(args[0])) {
            usage(out);
            return 0;
        }
        for (Command c : COMMANDS) {
            if (c.name().equals(args[0])) {
                return c.run(Arrays.asList(args).subList(1, args.length), out, err);
            }
        }
        err.println("sd: unknown command \"" + args[0] + "\"");
        usage(err);
        return 2;
    }

    private static void usage(PrintStream out) {
        out.println("usage: ./sd COMMAND [ARGS]");
        for (Command c : COMMANDS) {
            out.printf("  %-28s %s%n", c.usage(), c.summary());
        }
        out.printf("  %-28s %s%n", "test [MAVEN ARGS]", "the test suite");
        out.printf("  %-28s %s%n", "bench ...", "benchmarks");
    }
}
