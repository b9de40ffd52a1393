package dev.sdjava.examples;

import java.io.PrintStream;
import java.util.List;

/** One subcommand of {@code ./sd}. */
interface Command {
    /** The word that selects it: {@code ./sd NAME ...}. */
    String name();

    /** Name and arguments, for the usage text, e.g. {@code inspect FILE}. */
    String usage();

    /** One line on what it does. */
    String summary();

    /**
     * Runs with the arguments after the name. Failures print one line to {@code err}, no stack
     * trace, and return non-zero: 1 when the work failed, 2 for bad usage.
     */
    int run(List<String> args, PrintStream out, PrintStream err);
}
