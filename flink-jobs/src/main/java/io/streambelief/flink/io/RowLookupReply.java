package io.streambelief.flink.io;

import java.util.Arrays;
import java.util.Objects;

import io.streambelief.model.sparse.SparseExample;

/**
 * One shard's answer to a {@link RowLookup}, on its way back to the worker that trains the batch.
 *
 * @param lookups {@code ids.length} rows of {@code [wide, e_1..e_dim]}, in the order of {@code ids};
 *     zeros for an id not yet admitted
 * @param examples as in the lookup
 */
public record RowLookupReply(long batchId, int worker, int parts, long[] ids, float[] lookups,
        SparseExample[] examples) {

    @Override
    public boolean equals(Object o) {
        return o instanceof RowLookupReply other && batchId == other.batchId && worker == other.worker
                && parts == other.parts && Arrays.equals(ids, other.ids) && Arrays.equals(lookups, other.lookups)
                && Arrays.equals(examples, other.examples);
    }

    @Override
    public int hashCode() {
        return Objects.hash(batchId, ids.length);
    }

    @Override
    public String toString() {
        return "RowLookupReply[batch=" + batchId + ", part of " + parts + ", " + ids.length + " ids, "
                + examples.length + " examples]";
    }
}
