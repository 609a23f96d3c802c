package io.streambelief.kafka.sparse;

import java.io.Serializable;

import io.streambelief.kafka.example.MalformedExampleException;

/**
 * How a record's label (0 or 1) follows from a numeric column. A new rule must say how it labels,
 * or it does not compile.
 */
sealed interface LabelRule extends Serializable {

    /** The numeric column the label comes from, by its place in CSV order. */
    int column();

    /** The label for the column's value; throws {@link MalformedExampleException} when the value cannot be one. */
    int labelOf(double value);

    /** The column holds the label itself: 0 or 1, nothing else. */
    record Flag(int column, String columnName) implements LabelRule {
        @Override
        public int labelOf(double value) {
            if (value != 0 && value != 1) {
                throw new MalformedExampleException("label '" + columnName + "' is " + value + ", not 0 or 1");
            }
            return (int) value;
        }
    }

    /** 1 when the value compares so with the threshold (e.g. {@code delay > 15}), else 0. */
    record Threshold(int column, Comparison comparison, double threshold) implements LabelRule {
        @Override
        public int labelOf(double value) {
            return comparison.holds(value, threshold) ? 1 : 0;
        }
    }
}
