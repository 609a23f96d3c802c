package io.streambelief.flink.io;

import java.util.Arrays;
import java.util.Objects;

import io.streambelief.model.sparse.SparseExample;

/**
 * A mini-batch's distinct ids that one embedding shard holds, on their way to be looked up: one
 * record per shard and mini-batch rather than one per id of every example, which was the row
 * path's cost. The first part of a batch also carries its examples, which come back with its
 * reply, so that they need no path of their own to the worker that trains them.
 *
 * @param batchId the batch's first example's id: unique while the batch is in flight, the same on replay
 * @param worker the worker subtask that trains the batch
 * @param shard the embedding-shard subtask that holds every one of {@code ids}
 * @param parts how many lookups (one per shard the batch touches) the batch was split into
 * @param ids distinct, at least one
 * @param examples the batch's examples in the first part, else an empty array
 */
public record RowLookup(long batchId, int worker, int shard, int parts, long[] ids, SparseExample[] examples) {

    @Override
    public boolean equals(Object o) {
        return o instanceof RowLookup other && batchId == other.batchId && worker == other.worker
                && shard == other.shard && parts == other.parts && Arrays.equals(ids, other.ids)
                && Arrays.equals(examples, other.examples);
    }

    @Override
    public int hashCode() {
        return Objects.hash(batchId, shard);
    }

    @Override
    public String toString() {
        return "RowLookup[batch=" + batchId + ", shard=" + shard + ", part of " + parts + ", " + ids.length + " ids, "
                + examples.length + " examples]";
    }
}
