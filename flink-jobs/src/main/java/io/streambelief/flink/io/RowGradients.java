package io.streambelief.flink.io;

import java.util.Arrays;

import io.streambelief.model.record.RowGradient;

/**
 * Row gradients read from {@code embedding-gradients} on their way to the one embedding shard
 * that holds all their rows: one record per shard and a few milliseconds' reading, so that
 * gradients reach the shard in records as large as its lookups do — one record per gradient
 * would get one turn in two beside a whole batch's lookup, and lag ever further behind.
 *
 * @param shard the embedding-shard subtask that holds every gradient's row
 * @param committed read read_committed (the shard's state applies them) rather than as soon as
 *     written (its rows show them ahead of their commit)
 * @param createdMillis each gradient's creation (its Kafka record's timestamp)
 * @param partitions each gradient's partition of {@code embedding-gradients}
 * @param offsets each gradient's offset there
 */
public record RowGradients(int shard, boolean committed, RowGradient[] gradients, long[] createdMillis,
        int[] partitions, long[] offsets) {

    @Override
    public boolean equals(Object o) {
        return o instanceof RowGradients other && shard == other.shard && committed == other.committed
                && Arrays.equals(gradients, other.gradients) && Arrays.equals(createdMillis, other.createdMillis)
                && Arrays.equals(partitions, other.partitions) && Arrays.equals(offsets, other.offsets);
    }

    @Override
    public int hashCode() {
        return 31 * shard + gradients.length;
    }

    @Override
    public String toString() {
        return "RowGradients[shard=" + shard + ", " + gradients.length + (committed ? " committed" : " fresh")
                + " gradients]";
    }
}
