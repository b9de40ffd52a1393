package dev.sdjava.examples;

/** {@code ./sd COMMAND ...}: the command-line interface. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.out.println("usage: ./sd inspect FILE");
    }
}
