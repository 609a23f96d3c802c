package io.streambelief.model.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * The latest values of one parameter shard, as the parameter server publishes them to the
 * compacted {@code model-params} topic. Values are absolute, so applying a record twice, or
 * reading the topic from the beginning, gives the same model.
 *
 * @param modelId the model the shard belongs to
 * @param shardId the shard
 * @param version number of gradients applied to this shard
 * @param examplesApplied number of examples whose gradients are in these values
 * @param timestampMillis wall-clock time the values were taken
 * @param values the shard's parameters; owned by this record
 */
public record ParamUpdate(String modelId, int shardId, long version, long examplesApplied, long timestampMillis,
        float[] values) {

    public ParamUpdate {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(values, "values");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParamUpdate other && modelId.equals(other.modelId) && shardId == other.shardId
                && version == other.version && examplesApplied == other.examplesApplied
                && timestampMillis == other.timestampMillis && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, shardId, version, examplesApplied, timestampMillis) * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "ParamUpdate[" + modelId + "/" + shardId + " v" + version + ", examples=" + examplesApplied
                + ", values=" + values.length + "]";
    }
}
