package io.streambelief.kafka.example;

/**
 * Parses CSV numbers straight from the record's bytes. Examples arrive by the thousand per
 * second with hundreds of fields each, so plain decimals (the common case) skip the String that
 * {@link Float#parseFloat} needs; anything else falls back to it.
 */
final class CsvNumbers {
    private static final double[] POWERS_OF_TEN = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22
    };
    /** Up to 15 digits a mantissa is an exact double (below 2^53). */
    private static final int MAX_FAST_DIGITS = 15;

    private CsvNumbers() {}

    /** The number in {@code value[from, to)}, the CSV field {@code column} (1-based, for the message). */
    static float parseFloat(byte[] value, int from, int to, int column) {
        while (from < to && value[from] == ' ') {
            from++;
        }
        while (to > from && value[to - 1] == ' ') {
            to--;
        }
        if (from == to) {
            throw new MalformedExampleException("CSV field " + column + " is empty");
        }
        int i = from;
        boolean negative = value[i] == '-';
        if (negative || value[i] == '+') {
            i++;
        }
        long mantissa = 0;
        boolean anyDigit = false;
        int digits = 0;
        int fractionDigits = 0;
        boolean point = false;
        for (; i < to; i++) {
            byte b = value[i];
            if (b >= '0' && b <= '9') {
                anyDigit = true;
                if (digits < MAX_FAST_DIGITS && fractionDigits < POWERS_OF_TEN.length - 1) {
                    mantissa = mantissa * 10 + (b - '0');
                    if (mantissa > 0) {
                        digits++;
                    }
                    if (point) {
                        fractionDigits++;
                    }
                } else {
                    return slow(value, from, to, column);
                }
            } else if (b == '.' && !point) {
                point = true;
            } else {
                return slow(value, from, to, column);
            }
        }
        if (!anyDigit) {
            return slow(value, from, to, column);
        }
        // The mantissa and the power of ten are exact doubles, so the division is correctly rounded
        // (Clinger's fast path); the float is then that double rounded once more.
        double result = mantissa / POWERS_OF_TEN[fractionDigits];
        return (float) (negative ? -result : result);
    }

    private static float slow(byte[] value, int from, int to, int column) {
        String text = ExampleParser.text(value, from, to);
        try {
            return Float.parseFloat(text);
        } catch (NumberFormatException e) {
            throw new MalformedExampleException("CSV field " + column + " is not a number: '"
                    + ExampleParser.abbreviate(text) + "'");
        }
    }
}
