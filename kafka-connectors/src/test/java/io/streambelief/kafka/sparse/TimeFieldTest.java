package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDateTime;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class TimeFieldTest {
    // 2001-01-01 was a Monday.
    private static final LocalDateTime MONDAY_MORNING = LocalDateTime.of(2001, 1, 1, 5, 30);

    @Test
    void mondayJanuaryAndTheFirstAreOneMidnightIsZero() {
        assertEquals(1, TimeField.DAY_OF_WEEK.of(MONDAY_MORNING));
        assertEquals(7, TimeField.DAY_OF_WEEK.of(MONDAY_MORNING.minusDays(1)));
        assertEquals(1, TimeField.DAY_OF_MONTH.of(MONDAY_MORNING));
        assertEquals(1, TimeField.MONTH.of(MONDAY_MORNING));
        assertEquals(5, TimeField.HOUR.of(MONDAY_MORNING));
        assertEquals(0, TimeField.HOUR.of(MONDAY_MORNING.withHour(0)));
    }

    @Test
    void eachPartIsNamedAsTheSchemaFunctionThatDerivesIt() {
        assertEquals(Optional.of(TimeField.DAY_OF_WEEK), TimeField.named("day_of_week"));
        assertEquals(Optional.of(TimeField.DAY_OF_MONTH), TimeField.named("day_of_month"));
        assertEquals(Optional.of(TimeField.MONTH), TimeField.named("month"));
        assertEquals(Optional.of(TimeField.HOUR), TimeField.named("hour"));
        assertTrue(TimeField.named("weekday").isEmpty());
    }
}
