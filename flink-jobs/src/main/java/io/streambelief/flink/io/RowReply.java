package io.streambelief.flink.io;

import java.util.Arrays;

import io.streambelief.model.sparse.SparseExample;

/**
 * A looked-up row on its way back to the worker that assembles the example.
 *
 * @param lookup {@code [wide, e_1..e_dim]}, or null for an id without a row yet (read as zeros)
 * @param example as in the request: the example in slot 0's reply, else null
 */
public record RowReply(long id, long exampleId, int worker, int slot, float[] lookup, SparseExample example) {

    @Override
    public boolean equals(Object o) {
        return o instanceof RowReply other && id == other.id && exampleId == other.exampleId && worker == other.worker
                && slot == other.slot && Arrays.equals(lookup, other.lookup) && java.util.Objects.equals(example, other.example);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(exampleId) + slot;
    }

    @Override
    public String toString() {
        return "RowReply[id=" + id + ", example=" + exampleId + ", slot=" + slot + ", worker=" + worker + "]";
    }
}
