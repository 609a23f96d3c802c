package io.streambelief.kafka.sparse;

import java.io.Serializable;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.Locale;

/**
 * How a time column's text reads: a {@link DateTimeFormatter} pattern, with the year when the
 * pattern has none; hours and minutes a pattern leaves out read as midnight.
 */
final class TimeFormat implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String pattern;
    private final Integer year;
    // A DateTimeFormatter is not Serializable, and building one per field would be slow: each JVM builds it once.
    private transient DateTimeFormatter formatter;

    /** Throws {@link IllegalArgumentException} when {@code pattern} is not a DateTimeFormatter pattern. */
    TimeFormat(String pattern, Integer year) {
        this.pattern = pattern;
        this.year = year;
        this.formatter = formatter();
    }

    String pattern() {
        return pattern;
    }

    /** Throws {@link java.time.format.DateTimeParseException} when the text is not a time in this format. */
    LocalDateTime parse(String text) {
        if (formatter == null) {
            formatter = formatter();
        }
        return LocalDateTime.parse(text, formatter);
    }

    private DateTimeFormatter formatter() {
        DateTimeFormatterBuilder builder = new DateTimeFormatterBuilder().appendPattern(pattern);
        if (year != null) {
            builder.parseDefaulting(ChronoField.YEAR, year);
        }
        return builder.parseDefaulting(ChronoField.HOUR_OF_DAY, 0).parseDefaulting(ChronoField.MINUTE_OF_HOUR, 0)
                .toFormatter(Locale.ROOT);
    }

    @Override
    public String toString() {
        return year == null ? pattern : pattern + " (year " + year + ")";
    }
}
