package io.streambelief.kafka.sparse;

import java.io.Serializable;

/**
 * A numeric input of the model's deep part: a numeric column's value, transformed. A new transform
 * must say how it transforms, or it does not compile.
 */
sealed interface NumericInput extends Serializable {

    String name();

    /** The numeric column, by its place in CSV order. */
    int column();

    /** The input for the column's value. */
    double of(double x);

    /** The value as it is. */
    record Value(String name, int column) implements NumericInput {
        @Override
        public double of(double x) {
            return x;
        }
    }

    /** log(1 + |x|) with the sign of x: tames long tails on both sides, and 0 stays 0. */
    record Log1p(String name, int column) implements NumericInput {
        @Override
        public double of(double x) {
            return Math.signum(x) * Math.log1p(Math.abs(x));
        }
    }

    /** The value times a factor. */
    record Scale(String name, int column, double factor) implements NumericInput {
        @Override
        public double of(double x) {
            return x * factor;
        }
    }
}
