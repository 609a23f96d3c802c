package io.streambelief.kafka.sparse;

import java.util.Arrays;

/** How a threshold label rule compares a record's value with its threshold, spelled as in the rule. */
enum Comparison {
    ABOVE(">"),
    AT_LEAST(">="),
    BELOW("<"),
    AT_MOST("<="),
    EQUAL("=="),
    NOT_EQUAL("!=");

    private final String symbol;

    Comparison(String symbol) {
        this.symbol = symbol;
    }

    String symbol() {
        return symbol;
    }

    boolean holds(double value, double threshold) {
        return switch (this) {
            case ABOVE -> value > threshold;
            case AT_LEAST -> value >= threshold;
            case BELOW -> value < threshold;
            case AT_MOST -> value <= threshold;
            case EQUAL -> value == threshold;
            case NOT_EQUAL -> value != threshold;
        };
    }

    /** Throws {@link IllegalArgumentException} for a symbol that is none of {@code > >= < <= == !=}. */
    static Comparison of(String symbol) {
        return Arrays.stream(values()).filter(comparison -> comparison.symbol.equals(symbol)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("'" + symbol + "' is not a comparison"));
    }
}
