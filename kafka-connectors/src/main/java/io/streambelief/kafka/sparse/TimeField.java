package io.streambelief.kafka.sparse;

import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.Optional;

/** A part of a time that a categorical feature takes, named as the schema's function that derives it. */
enum TimeField {
    DAY_OF_WEEK("day_of_week"),
    DAY_OF_MONTH("day_of_month"),
    MONTH("month"),
    HOUR("hour");

    private final String function;

    TimeField(String function) {
        this.function = function;
    }

    String function() {
        return function;
    }

    /** Monday is 1, January is 1, midnight is hour 0. */
    int of(LocalDateTime time) {
        return switch (this) {
            case DAY_OF_WEEK -> time.getDayOfWeek().getValue();
            case DAY_OF_MONTH -> time.getDayOfMonth();
            case MONTH -> time.getMonthValue();
            case HOUR -> time.getHour();
        };
    }

    static Optional<TimeField> named(String function) {
        return Arrays.stream(values()).filter(field -> field.function.equals(function)).findFirst();
    }
}
