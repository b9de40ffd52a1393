/** JMH and end-to-end benchmarks. */
module dev.sdjava.bench {
    requires dev.sdjava.sampling;
    exports dev.sdjava.bench;
}
