package dev.sdjava.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The options the JMH suites share: {@code [--quick] [--only REGEX] [--json FILE]}.
 *
 * @param quick fewer and shorter iterations
 * @param only  which cases run, matched against their lower-case names
 * @param json  where to write the report, or null
 */
record SuiteOptions(boolean quick, Pattern only, Path json) {

    /** Parses {@code args} of {@code ./sd bench <command>}. */
    static SuiteOptions parse(List<String> args, String command) {
        boolean quick = false;
        Path json = null;
        String only = ".*";
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "--quick" -> quick = true;
                case "--only" -> {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException("--only needs a regular expression over case names");
                    }
                    only = args.get(++i);
                }
                case "--json" -> {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException("--json needs a file name");
                    }
                    json = Path.of(args.get(++i));
                }
                default -> throw new IllegalArgumentException("unknown option '" + args.get(i)
                        + "' for 'bench " + command + "'; expected --quick, --only REGEX, --json FILE");
            }
        }
        return new SuiteOptions(quick, Pattern.compile(only), json);
    }

    boolean selects(String caseName) {
        return only.matcher(caseName).matches();
    }
}
