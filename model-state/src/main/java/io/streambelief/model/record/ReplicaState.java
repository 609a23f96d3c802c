package io.streambelief.model.record;

import java.util.Arrays;

/**
 * A worker's replica as checkpointed: the state received from the parameter servers (values,
 * optimizer slots, per-shard versions and, per shard, the last push of each worker it contains)
 * and the worker's last push sequence number and index ({@link #UNKNOWN_WORKER} in states of
 * format 1). Taken in the same checkpoint as the parameter source's offsets, so replica and
 * parameter stream resume from one consistent point.
 */
public record ReplicaState(float[] values, float[][] slots, long[] versions, long[][] acks, long lastPush, int worker) {
    public static final int UNKNOWN_WORKER = -1;

    public long totalVersion() {
        long total = 0;
        for (long v : versions) {
            total += v;
        }
        return total;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReplicaState other && Arrays.equals(values, other.values)
                && Arrays.deepEquals(slots, other.slots) && Arrays.equals(versions, other.versions)
                && Arrays.deepEquals(acks, other.acks) && lastPush == other.lastPush && worker == other.worker;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(values) + Arrays.hashCode(versions);
    }

    @Override
    public String toString() {
        return "ReplicaState[worker=" + worker + ", values=" + values.length + ", versions=" + Arrays.toString(versions)
                + ", lastPush=" + lastPush + "]";
    }
}
