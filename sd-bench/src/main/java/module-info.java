/** JMH and end-to-end benchmarks. */
module dev.sdjava.bench {
    requires dev.sdjava.sampling;
    requires jdk.incubator.vector;
    requires jmh.core;
    exports dev.sdjava.bench;
}
