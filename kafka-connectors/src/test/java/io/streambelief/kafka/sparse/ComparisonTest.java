package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ComparisonTest {

    @Test
    void eachComparisonIsSpelledAsInTheRule() {
        for (Comparison comparison : Comparison.values()) {
            assertEquals(comparison, Comparison.of(comparison.symbol()));
        }
        assertThrows(IllegalArgumentException.class, () -> Comparison.of("=>"));
    }

    @Test
    void atTheThresholdOnlyTheInclusiveComparisonsAndEqualityHold() {
        assertFalse(Comparison.of(">").holds(15, 15));
        assertTrue(Comparison.of(">=").holds(15, 15));
        assertFalse(Comparison.of("<").holds(15, 15));
        assertTrue(Comparison.of("<=").holds(15, 15));
        assertTrue(Comparison.of("==").holds(15, 15));
        assertFalse(Comparison.of("!=").holds(15, 15));
    }

    @Test
    void aboveTheThresholdTheUpperComparisonsHold() {
        assertTrue(Comparison.of(">").holds(16, 15));
        assertTrue(Comparison.of(">=").holds(16, 15));
        assertFalse(Comparison.of("<").holds(16, 15));
        assertFalse(Comparison.of("<=").holds(16, 15));
        assertFalse(Comparison.of("==").holds(16, 15));
        assertTrue(Comparison.of("!=").holds(16, 15));
    }
}
