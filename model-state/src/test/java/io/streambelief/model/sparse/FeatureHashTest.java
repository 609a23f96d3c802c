package io.streambelief.model.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class FeatureHashTest {

    @Test
    void idsAreFixedForever() {
        // Published tables and serving replicas depend on these exact values: the hash must never change.
        assertEquals(FeatureHash.id("origin", "SFO"), FeatureHash.id("origin", "SFO"));
        assertEquals(7_404_753_270_072_046_011L, FeatureHash.id("origin", "SFO"));
        assertEquals(5_453_030_572_577_069_166L, FeatureHash.cross("origin_x_destination", "SFO", "LAX"));
    }

    @Test
    void theFieldIsPartOfTheId() {
        assertNotEquals(FeatureHash.id("origin", "SFO"), FeatureHash.id("destination", "SFO"));
        assertNotEquals(FeatureHash.id("ab", "c"), FeatureHash.id("a", "bc"));
    }

    @Test
    void crossesDependOnOrder() {
        assertNotEquals(FeatureHash.cross("route", "SFO", "LAX"), FeatureHash.cross("route", "LAX", "SFO"));
    }

    @Test
    void aMillionValuesGetAMillionIds() {
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < 1_000_000; i++) {
            ids.add(FeatureHash.id("user", Integer.toString(i)));
        }
        assertEquals(1_000_000, ids.size());
    }
}
