package io.streambelief.kafka.sparse;

import java.io.Serializable;
import java.time.LocalDateTime;
import java.util.Arrays;

/**
 * A categorical slot: its id hashes the feature's name with a value taken, or derived, from one
 * column. A new derivation must say how it derives its value, or it does not compile.
 */
sealed interface CategoricalFeature extends Serializable {

    String name();

    /** The column the value comes from, by its place in CSV order. */
    int column();

    /** The slot's value from the column's value, as {@link Column#read} gives it. */
    String valueOf(Object value);

    /** The column's value itself, of a column of any type. */
    record ColumnValue(String name, int column) implements CategoricalFeature {
        @Override
        public String valueOf(Object value) {
            return value instanceof Double d ? number(d) : value.toString();
        }

        // 370 and 370.0 are the same distance: whole numbers hash alike however the record spells them.
        private static String number(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }
    }

    /** A part of a time column's value: day of week or month, month, hour. */
    record TimePart(String name, int column, TimeField field) implements CategoricalFeature {
        @Override
        public String valueOf(Object value) {
            return Integer.toString(field.of((LocalDateTime) value));
        }
    }

    /** The index of the first bound a numeric column's value is below; the number of bounds when it is below none. */
    record Bucket(String name, int column, double[] bounds) implements CategoricalFeature {
        public Bucket {
            bounds = bounds.clone();
        }

        @Override
        public double[] bounds() {
            return bounds.clone();
        }

        @Override
        public String valueOf(Object value) {
            double x = (Double) value;
            int bucket = 0;
            while (bucket < bounds.length && x >= bounds[bucket]) {
                bucket++;
            }
            return Integer.toString(bucket);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Bucket that && name.equals(that.name) && column == that.column
                    && Arrays.equals(bounds, that.bounds);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * name.hashCode() + column) + Arrays.hashCode(bounds);
        }

        @Override
        public String toString() {
            return "Bucket[name=" + name + ", column=" + column + ", bounds=" + Arrays.toString(bounds) + "]";
        }
    }
}
