package io.streambelief.model.record;

import java.util.Arrays;

/**
 * One worker's push to one parameter shard: the gradient for that shard's range, summed over the
 * worker's last {@code nPush} mini-batches (each the mean over its examples).
 *
 * @param shardId the shard (and parameter-server key)
 * @param baseVersion the shard version the gradient was computed on, for staleness
 * @param examples how many examples the gradient covers, for accounting
 * @param values the gradient, one float per parameter of the shard; owned by this record
 */
public record GradientSlice(int shardId, long baseVersion, int examples, float[] values) {

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientSlice other && shardId == other.shardId && baseVersion == other.baseVersion
                && examples == other.examples && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * shardId + Long.hashCode(baseVersion)) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "GradientSlice[shard=" + shardId + ", baseVersion=" + baseVersion + ", examples=" + examples
                + ", values=" + values.length + "]";
    }
}
