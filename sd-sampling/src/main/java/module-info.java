/** Schedulers, the torch-compatible RNG, guidance and the Pipeline API. */
module dev.sdjava.sampling {
    requires transitive dev.sdjava.model;
    requires transitive java.desktop;
    exports dev.sdjava.sampling;
}
