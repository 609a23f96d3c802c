package io.streambelief.kafka.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;

class FlightsTest {

    @Test
    void theFlightsStreamIsEveryFlightInTimeOrderAndParsesWithTheBundledSchema() throws Exception {
        List<String> lines = Flights.read();
        assertThat(lines).hasSize(Flights.ROWS);
        assertThat(lines.get(0)).startsWith("0101");
        assertThat(lines.get(lines.size() - 1)).startsWith("0331");

        SparseExampleParser parser = new SparseExampleParser(FeatureSchema.load("flights"), 1024);
        long late = lines.stream().mapToInt(line -> parser.parse(line.getBytes()).label()).sum();
        assertThat((double) late / lines.size()).as("share of late flights (README: about 20%)").isBetween(0.19, 0.21);
    }
}
