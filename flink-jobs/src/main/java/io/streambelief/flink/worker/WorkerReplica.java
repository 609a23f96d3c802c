package io.streambelief.flink.worker;

import java.util.Arrays;

/**
 * A worker's copy of the model as checkpointed: the latest values received for every shard and
 * their versions. It is taken in the same checkpoint as the parameter source's offsets, so after a
 * restore the replica and the parameter stream continue from one consistent point.
 */
public record WorkerReplica(float[] values, long[] versions) {

    long totalVersion() {
        long total = 0;
        for (long v : versions) {
            total += v;
        }
        return total;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WorkerReplica other && Arrays.equals(values, other.values)
                && Arrays.equals(versions, other.versions);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(values) + Arrays.hashCode(versions);
    }

    @Override
    public String toString() {
        return "WorkerReplica[values=" + values.length + ", versions=" + Arrays.toString(versions) + "]";
    }
}
