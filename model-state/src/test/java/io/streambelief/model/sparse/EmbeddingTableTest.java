package io.streambelief.model.sparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class EmbeddingTableTest {
    private final EmbeddingTable table = new EmbeddingTable(4, RowOptimizer.parse("ftrl"), RowOptimizer.parse("adagrad"), 42);

    @Test
    void rowsAreLaidOutAsWideThenDeepEachWithItsSlots() {
        assertEquals(5, table.lookupWidth());
        assertEquals(1 + 2 + 4 * 2, table.storedWidth());
    }

    @Test
    void newRowsAreDeterministicInSeedAndId() {
        assertArrayEquals(table.newRow(7), table.newRow(7));
        assertNotEquals(Arrays.toString(table.newRow(7)), Arrays.toString(table.newRow(8)));
        EmbeddingTable otherSeed = new EmbeddingTable(4, RowOptimizer.parse("ftrl"), RowOptimizer.parse("adagrad"), 43);
        assertNotEquals(Arrays.toString(table.newRow(7)), Arrays.toString(otherSeed.newRow(7)));
        float[] lookup = table.lookup(table.newRow(7));
        assertEquals(0f, lookup[0], "a new id has no wide weight yet");
        for (int i = 1; i < lookup.length; i++) {
            assertTrue(Math.abs(lookup[i]) <= 0.25f && lookup[i] != 0f);
        }
    }

    @Test
    void aGradientMovesTheWideWeightAndTheEmbeddingAgainstIt() {
        float[] row = table.newRow(1);
        float[] before = table.lookup(row);
        table.apply(row, new float[] {9, 1, 1, 1, 1, 9}, 1);
        float[] after = table.lookup(row);
        assertTrue(after[0] < 0, "wide weight follows FTRL against a positive gradient");
        for (int i = 1; i < after.length; i++) {
            assertTrue(after[i] < before[i]);
        }
    }
}
