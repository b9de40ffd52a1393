/** The command-line interface ({@code ./sd}) and small examples. */
module dev.sdjava.examples {
    requires dev.sdjava.sampling;
}
