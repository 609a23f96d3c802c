package io.streambelief.kafka.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

import io.streambelief.model.sparse.FeatureHash;

class CrossTest {
    private static final String[] FLIGHT = {"LAX", "PHX", "1"};

    @Test
    void theIdHashesTheCrossedValuesInTheCrossesOrder() {
        assertEquals(FeatureHash.cross("destination_x_dow", "PHX", "1"), new Cross("destination_x_dow", new int[] {1, 2}).id(FLIGHT));
        assertEquals(FeatureHash.cross("origin_x_destination_x_dow", "LAX", "PHX", "1"),
                new Cross("origin_x_destination_x_dow", new int[] {0, 1, 2}).id(FLIGHT));
    }

    @Test
    void theOrderOfThePartsMatters() {
        assertNotEquals(new Cross("x", new int[] {0, 1}).id(FLIGHT), new Cross("x", new int[] {1, 0}).id(FLIGHT));
    }

    @Test
    void aCrossKeepsItsPartsWhateverTheCallerDoesWithTheArray() {
        int[] parts = {0, 1};
        var cross = new Cross("origin_x_destination", parts);
        parts[1] = 2;
        cross.parts()[0] = 2;
        assertEquals(new Cross("origin_x_destination", new int[] {0, 1}), cross);
    }
}
