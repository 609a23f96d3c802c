package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NumericInputTest {

    @Test
    void aValueIsTheColumnsNumber() {
        assertEquals(-370, new NumericInput.Value("distance", 0).of(-370));
    }

    @Test
    void log1pTamesBothTailsAndKeepsTheSign() {
        var log = new NumericInput.Log1p("log_distance", 0);
        assertEquals(Math.log1p(370), log.of(370));
        assertEquals(-Math.log1p(370), log.of(-370));
        assertEquals(0, log.of(0));
    }

    @Test
    void scaleMultipliesByItsFactor() {
        assertEquals(3.7, new NumericInput.Scale("distance_k", 0, 0.01).of(370), 1e-12);
    }
}
