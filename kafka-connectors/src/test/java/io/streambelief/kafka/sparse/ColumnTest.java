package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.LocalDateTime;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.example.MalformedExampleException;

class ColumnTest {

    @Test
    void aCategoricalColumnTakesAnyTextAsItIs() {
        Column origin = new Column.Categorical("origin");
        assertEquals(" LAX ", origin.read(" LAX "));
        assertEquals("", origin.read(""));
        assertEquals("categorical", origin.type());
    }

    @Test
    void aNumericColumnTakesAFiniteNumberBlanksAllowed() {
        Column delay = new Column.Numeric("delay");
        assertEquals(15.0, delay.read(" 15 "));
        assertEquals(-3e20, delay.read("-3e20"));
        assertEquals("numeric", delay.type());
    }

    @Test
    void aNumericColumnRejectsTextAndInfinityQuotingOnlyTheStartOfLongFields() {
        Column delay = new Column.Numeric("delay");
        assertEquals("field 'delay' is not a number: 'late'", reason(() -> delay.read("late")));
        assertEquals("field 'delay' is not finite: NaN", reason(() -> delay.read("NaN")));
        assertEquals("field 'delay' is not finite: Infinity", reason(() -> delay.read("Infinity")));
        assertEquals("field 'delay' is not a number: '" + "9".repeat(39) + "x...'",
                reason(() -> delay.read("9".repeat(39) + "x" + "9".repeat(100))));
    }

    @Test
    void aTimeColumnTakesTextInItsFormat() {
        Column date = new Column.Time("date", new TimeFormat("MMddHHmm", 2001));
        assertEquals(LocalDateTime.of(2001, 1, 1, 5, 30), date.read(" 01010530 "));
        assertEquals("time", date.type());
        assertEquals("field 'date' is not a time in format MMddHHmm: 'tomorrow'", reason(() -> date.read("tomorrow")));
    }

    private static String reason(Runnable read) {
        return assertThrows(MalformedExampleException.class, read::run).reason();
    }
}
