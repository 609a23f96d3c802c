package io.streambelief.kafka.sparse;

import java.io.Serializable;
import java.time.format.DateTimeParseException;

import io.streambelief.kafka.example.MalformedExampleException;

/**
 * A column of the raw records. Its type decides which text a field may hold and what the features
 * derive from it: the text itself, a finite number, or a time. A new type must say how it reads a
 * field, or it does not compile.
 */
sealed interface Column extends Serializable {

    String name();

    /** The type as the schema's JSON spells it, so that messages use the user's words. */
    String type();

    /**
     * The field's value: a {@code String}, a finite {@code Double} or a {@code LocalDateTime}, by type.
     * Throws {@link MalformedExampleException} when the text is not one.
     */
    Object read(String text);

    /** Any text; the features hash it as it is. */
    record Categorical(String name) implements Column {
        @Override
        public String type() {
            return "categorical";
        }

        @Override
        public Object read(String text) {
            return text;
        }
    }

    /** A finite number, surrounding blanks allowed. */
    record Numeric(String name) implements Column {
        @Override
        public String type() {
            return "numeric";
        }

        @Override
        public Object read(String text) {
            double value;
            try {
                value = Double.parseDouble(text.strip());
            } catch (NumberFormatException e) {
                throw new MalformedExampleException("field '" + name + "' is not a number: '" + clip(text) + "'");
            }
            if (!Double.isFinite(value)) {
                throw new MalformedExampleException("field '" + name + "' is not finite: " + clip(text));
            }
            return value;
        }
    }

    /** A time in the column's format, surrounding blanks allowed. */
    record Time(String name, TimeFormat format) implements Column {
        @Override
        public String type() {
            return "time";
        }

        @Override
        public Object read(String text) {
            try {
                return format.parse(text.strip());
            } catch (DateTimeParseException e) {
                throw new MalformedExampleException("field '" + name + "' is not a time in format " + format.pattern()
                        + ": '" + clip(text) + "'");
            }
        }
    }

    /** A record may carry anything in a field; the dead-letter reason quotes only its start. */
    private static String clip(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
