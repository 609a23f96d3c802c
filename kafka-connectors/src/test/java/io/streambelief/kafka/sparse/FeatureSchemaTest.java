package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.sparse.FeatureHash;

class FeatureSchemaTest {
    private final FeatureSchema flights = FeatureSchema.load("flights");

    @Test
    void theFlightsSchemaDerivesDayOfWeekAndDistanceBucketButNotTheLeakyHour() {
        assertEquals(List.of("date", "delay", "distance", "origin", "destination"), flights.columnNames());
        assertEquals(List.of("origin", "destination", "dow", "dom", "distance_bucket", "origin_x_destination",
                "origin_x_destination_x_dow", "destination_x_dow", "origin_x_dow"), flights.slotNames());
        assertTrue(flights.slotNames().stream().noneMatch(name -> name.contains("hour")));
        // 2001-01-01 was a Monday.
        var features = flights.features(Map.of("date", "01010530", "delay", "16", "distance", "370", "origin", "LAX",
                "destination", "PHX")::get, true);
        assertEquals(FeatureHash.id("origin", "LAX"), features.ids()[0]);
        assertEquals(FeatureHash.id("dow", "1"), features.ids()[2]);
        assertEquals(FeatureHash.id("dom", "1"), features.ids()[3]);
        assertEquals(FeatureHash.id("distance_bucket", "1"), features.ids()[4]);
        assertEquals(FeatureHash.cross("origin_x_destination", "LAX", "PHX"), features.ids()[5]);
        assertEquals(FeatureHash.cross("origin_x_destination_x_dow", "LAX", "PHX", "1"), features.ids()[6]);
        assertArrayEquals(new float[] {(float) Math.log1p(370)}, features.numerics());
        assertEquals(1, features.label(), "16 minutes late is late");
    }

    @Test
    void onlyTheDerivedValuesMatterNotHowTheRecordSpellsThem() {
        var a = flights.features(Map.of("date", "01080530", "delay", "0", "distance", "370.0", "origin", "LAX",
                "destination", "PHX")::get, true);
        var b = flights.features(Map.of("date", "01012359", "delay", "15", "distance", "370", "origin", "LAX",
                "destination", "PHX")::get, true);
        assertArrayEquals(new long[] {a.ids()[0], a.ids()[1], a.ids()[2]}, new long[] {b.ids()[0], b.ids()[1], b.ids()[2]},
                "the same weekday a week later");
        assertNotEquals(a.ids()[3], b.ids()[3], "another day of the month");
        assertEquals(0, b.label(), "15 minutes is not more than 15");
    }

    @Test
    void aServingRequestNeedsNoLabel() {
        var request = flights.features(Map.of("date", "01010530", "distance", "370", "origin", "LAX",
                "destination", "PHX")::get, false);
        assertEquals(-1, request.label());
        var missing = assertThrows(MalformedExampleException.class, () -> flights.features(Map.of("date", "01010530",
                "distance", "370", "origin", "LAX", "destination", "PHX")::get, true));
        assertEquals("missing field 'delay'", missing.reason());
    }

    @Test
    void wrongTypesAreMalformedRecordsWithTheirReason() {
        var notANumber = assertThrows(MalformedExampleException.class, () -> flights.features(Map.of("date", "01010530",
                "delay", "late", "distance", "370", "origin", "LAX", "destination", "PHX")::get, true));
        assertEquals("field 'delay' is not a number: 'late'", notANumber.reason());
        var notATime = assertThrows(MalformedExampleException.class, () -> flights.features(Map.of("date", "tomorrow",
                "delay", "1", "distance", "370", "origin", "LAX", "destination", "PHX")::get, true));
        assertTrue(notATime.reason().contains("not a time in format MMddHHmm"), notATime.reason());
    }

    @Test
    void aSchemaCarriedInTheJobGraphDerivesTheSameFeaturesAfterSerialization() throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(flights);
        }
        FeatureSchema copy;
        try (var in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (FeatureSchema) in.readObject();
        }
        Map<String, String> flight = Map.of("date", "01010530", "delay", "16", "distance", "370", "origin", "LAX",
                "destination", "PHX");
        var expected = flights.features(flight::get, true);
        var actual = copy.features(flight::get, true);
        assertArrayEquals(expected.ids(), actual.ids());
        assertArrayEquals(expected.numerics(), actual.numerics());
        assertEquals(expected.label(), actual.label());
        assertEquals(flights.toString(), copy.toString());
    }
}
