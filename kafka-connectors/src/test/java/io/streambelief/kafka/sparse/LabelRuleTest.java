package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.example.MalformedExampleException;

class LabelRuleTest {

    @Test
    void aFlagIsTheColumnsZeroOrOne() {
        var clicked = new LabelRule.Flag(3, "clicked");
        assertEquals(0, clicked.labelOf(0));
        assertEquals(1, clicked.labelOf(1));
    }

    @Test
    void aFlagOfAnythingElseIsAMalformedRecord() {
        var clicked = new LabelRule.Flag(3, "clicked");
        assertEquals("label 'clicked' is 2.0, not 0 or 1",
                assertThrows(MalformedExampleException.class, () -> clicked.labelOf(2)).reason());
        assertThrows(MalformedExampleException.class, () -> clicked.labelOf(0.5));
    }

    @Test
    void aThresholdLabelsOneWhenTheComparisonHolds() {
        var late = new LabelRule.Threshold(1, Comparison.ABOVE, 15);
        assertEquals(1, late.labelOf(16));
        assertEquals(0, late.labelOf(15), "15 minutes is not more than 15");
        assertEquals(0, late.labelOf(-40));
    }
}
