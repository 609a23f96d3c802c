package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.data.Flights;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.kafka.example.RecordMutations;
import io.streambelief.model.sparse.SparseExample;

class SparseExampleParserTest {
    private final SparseExampleParser parser = new SparseExampleParser(FeatureSchema.load("flights"), 1024);

    @Test
    void rawJsonFieldsWrappedFieldsAndCsvLinesAreTheSameExample() {
        SparseExample json = parse("{\"date\": \"04010005\", \"delay\": 22, \"distance\": 111, \"origin\": \"TUL\", "
                + "\"destination\": \"OKC\"}");
        SparseExample wrapped = parse("{\"features\": {\"date\": \"04010005\", \"distance\": 111, \"origin\": \"TUL\", "
                + "\"destination\": \"OKC\"}, \"label\": 1}");
        SparseExample csv = parse("04010005,22,111,TUL,OKC\n");
        assertEquals(json, wrapped);
        assertEquals(json, csv);
        assertEquals(1, csv.label());
        assertEquals(9, csv.ids().length);
    }

    /**
     * No train/serve skew: a flight as the job reads it from the examples topic, and the same
     * flight as a client asks the model server about it (JSON numbers for numeric fields, strings
     * for the rest, no label), give the model the same input — every slot's id (derived fields,
     * buckets and crosses included) and every numeric input, bit for bit.
     */
    @Test
    void everyFlightGivesTheModelTheSameInputInTrainingAndInAServingRequest() throws Exception {
        FeatureSchema schema = FeatureSchema.load("flights");
        SparseExampleParser training = new SparseExampleParser(schema, 1 << 20);
        ObjectMapper client = new ObjectMapper();
        List<String> flights = Flights.read();
        int compared = 0;
        for (int i = 0; i < flights.size(); i += 97) {
            String line = flights.get(i);
            String[] v = line.split(",", -1);
            JsonNode request = client.readTree("{\"date\": \"" + v[0] + "\", \"distance\": " + v[2]
                    + ", \"origin\": \"" + v[3] + "\", \"destination\": \"" + v[4] + "\"}");

            SparseExample trained = training.parse(line.getBytes(StandardCharsets.UTF_8));
            FeatureSchema.Features served = SparseExampleParser.requestFeatures(schema, request);

            assertArrayEquals(trained.ids(), served.ids(), line);
            assertArrayEquals(trained.numerics(), served.numerics(), line);
            compared++;
        }
        assertEquals(schema.slots(), 9);
        assertTrue(compared > 2_000, compared + " flights compared");
    }

    /** Mutated and random records, in both formats and as serving requests: parsed, or refused with a reason. */
    @Test
    void noInputMakesItThrowAnythingButAMalformedExample() {
        byte[][] seeds = {
            utf8("04010005,22,111,TUL,OKC"),
            utf8("{\"date\": \"04010005\", \"delay\": 22, \"distance\": 111, \"origin\": \"TUL\", "
                    + "\"destination\": \"OKC\"}"),
            utf8("{\"features\": {\"date\": \"04010005\", \"distance\": 111, \"origin\": \"TUL\", "
                    + "\"destination\": \"OKC\"}, \"label\": 1}"),
        };
        RecordMutations mutations = new RecordMutations(13, seeds,
                utf8("0123456789.,-+eE{}[]\":labelfeaturesNaInfity \n\t\u00e9\u0000"), 4, 60);
        ObjectMapper json = new ObjectMapper();
        int refused = 0;
        for (int n = 0; n < 20_000; n++) {
            byte[] record = mutations.next();
            try {
                SparseExample example = parser.parse(record);
                assertEquals(9, example.ids().length);
                for (float x : example.numerics()) {
                    assertTrue(Float.isFinite(x), Arrays.toString(record));
                }
            } catch (MalformedExampleException e) {
                assertFalse(e.reason().isBlank());
                refused++;
            }
            JsonNode request;
            try {
                request = json.readTree(record);
            } catch (IOException | RuntimeException e) {
                continue;
            }
            if (request != null) {
                try {
                    SparseExampleParser.requestFeatures(FeatureSchema.load("flights"), request);
                } catch (MalformedExampleException e) {
                    assertFalse(e.reason().isBlank());
                }
            }
        }
        assertTrue(refused > 10_000, refused + " refused");
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void malformedRecordsSayWhy() {
        assertReason("missing label: neither 'label' nor column 'delay'",
                "{\"features\": {\"date\": \"04010005\", \"distance\": 111, \"origin\": \"TUL\", \"destination\": \"OKC\"}}");
        assertReason("missing field 'delay'",
                "{\"date\": \"04010005\", \"distance\": 111, \"origin\": \"TUL\", \"destination\": \"OKC\"}");
        assertReason("unknown field 'gate' (columns: date, delay, distance, origin, destination)",
                "{\"date\": \"04010005\", \"delay\": 1, \"distance\": 111, \"origin\": \"TUL\", \"destination\": \"OKC\", "
                        + "\"gate\": \"B4\"}");
        assertReason("field 'origin' must be a string or a number, not array",
                "{\"date\": \"04010005\", \"delay\": 1, \"distance\": 111, \"origin\": [\"TUL\"], \"destination\": \"OKC\"}");
        assertReason("field 'distance' is not a number: 'far'", "04010005,1,far,TUL,OKC");
        assertReason("CSV record has 3 values, the schema has 5 columns (date,delay,distance,origin,destination)",
                "04010005,1,111");
        assertReason("'label' must be 0 or 1, got 3", "{\"features\": {\"date\": \"04010005\", \"distance\": 1, "
                + "\"origin\": \"TUL\", \"destination\": \"OKC\"}, \"label\": 3}");
        assertReason("record is 2000 bytes, the limit is 1024", "x".repeat(2000));
        assertReason("empty record", "  ");
        assertReason("missing field 'date'", "{}");
        assertEquals("not JSON", assertThrows(MalformedExampleException.class, () -> parse("{\"date\": ")).reason()
                .substring(0, 8));
    }

    private SparseExample parse(String text) {
        return parser.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    private void assertReason(String reason, String text) {
        var e = assertThrows(MalformedExampleException.class, () -> parse(text));
        assertEquals(reason, e.reason());
    }
}
