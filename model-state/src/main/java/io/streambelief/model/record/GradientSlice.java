package io.streambelief.model.record;

import java.util.Arrays;

/**
 * One worker's push to one parameter shard: the gradient for that shard's range, summed over the
 * worker's last {@code nPush} mini-batches (each the mean over its examples).
 *
 * @param shardId the shard (and parameter-server key)
 * @param worker the pushing worker's index
 * @param push the worker's push sequence number (1, 2, ...), acknowledged in the shard's updates
 * @param baseVersion the shard version the gradient was computed on, for staleness
 * @param examples how many examples the gradient covers, for accounting
 * @param values the gradient, one float per parameter of the shard; owned by this record
 */
public record GradientSlice(int shardId, int worker, long push, long baseVersion, int examples, float[] values) {

    /** A slice that acknowledges nothing: for tests and tools that do not track pushes. */
    public GradientSlice(int shardId, long baseVersion, int examples, float[] values) {
        this(shardId, 0, 0, baseVersion, examples, values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientSlice other && shardId == other.shardId && worker == other.worker
                && push == other.push && baseVersion == other.baseVersion
                && examples == other.examples && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * shardId + Long.hashCode(baseVersion)) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "GradientSlice[shard=" + shardId + ", worker=" + worker + ", push=" + push + ", baseVersion=" + baseVersion + ", examples=" + examples
                + ", values=" + values.length + "]";
    }
}
