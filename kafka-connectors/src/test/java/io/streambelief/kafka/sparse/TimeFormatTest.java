package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;

import org.junit.jupiter.api.Test;

class TimeFormatTest {

    @Test
    void theYearComesFromThePatternOrElseFromTheSchema() {
        assertEquals(LocalDateTime.of(2001, 12, 31, 23, 59), new TimeFormat("MMddHHmm", 2001).parse("12312359"));
        assertEquals(LocalDateTime.of(2024, 2, 29, 0, 0), new TimeFormat("yyyy-MM-dd", null).parse("2024-02-29"));
    }

    @Test
    void hoursAndMinutesThePatternLeavesOutAreMidnight() {
        assertEquals(LocalDateTime.of(2001, 7, 4, 0, 0), new TimeFormat("MMdd", 2001).parse("0704"));
    }

    /** The formatter resolves SMART: a day past the month's end but within 31 reads as the month's last day. */
    @Test
    void aDayNoMonthHasIsNoTimeButTheThirtiethOfFebruaryIsItsLastDay() {
        TimeFormat format = new TimeFormat("yyyy-MM-dd", null);
        assertThrows(DateTimeParseException.class, () -> format.parse("2023-02-32"));
        assertThrows(DateTimeParseException.class, () -> format.parse("2023-13-01"));
        assertEquals(LocalDateTime.of(2023, 2, 28, 0, 0), format.parse("2023-02-30"));
    }

    @Test
    void aBadPatternFailsWhenTheFormatIsMadeNotOnTheFirstRecord() {
        assertThrows(IllegalArgumentException.class, () -> new TimeFormat("qqqqqqq{", null));
    }

    @Test
    void aDeserializedFormatBuildsItsFormatterAgain() throws IOException, ClassNotFoundException {
        var bytes = new ByteArrayOutputStream();
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(new TimeFormat("MMddHHmm", 2001));
        }
        try (var in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(LocalDateTime.of(2001, 1, 1, 5, 30), ((TimeFormat) in.readObject()).parse("01010530"));
        }
    }
}
