package io.streambelief.model.record;

import java.util.Arrays;

/**
 * A parameter shard as it is checkpointed: values, optimizer slots, version, the count of
 * examples applied, each worker's last push applied, the values' moving average (empty when
 * averaging is off) and the digest of the examples applied. An immutable copy; the live shard is
 * {@link io.streambelief.model.parameters.ParameterShard}.
 */
public record ShardState(int shardId, long version, long examplesApplied, float[] values, float[][] slots,
        long[] pushesApplied, float[] average, ExampleDigest digest) {

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardState other && shardId == other.shardId && version == other.version
                && examplesApplied == other.examplesApplied && Arrays.equals(values, other.values)
                && Arrays.deepEquals(slots, other.slots) && Arrays.equals(pushesApplied, other.pushesApplied)
                && Arrays.equals(average, other.average) && java.util.Objects.equals(digest, other.digest);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * shardId + Long.hashCode(version)) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "ShardState[shard=" + shardId + " v" + version + ", examples=" + examplesApplied + ", values="
                + values.length + ", slots=" + slots.length + "]";
    }
}
