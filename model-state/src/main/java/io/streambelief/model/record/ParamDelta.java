package io.streambelief.model.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * What changed in one parameter shard since its previous delta, as the parameter server sends it
 * to the workers on {@code model-param-deltas}: the changed entries' values and optimizer slots,
 * with the pushes the shard has applied. A worker applies a delta only on top of the version it
 * was computed from ({@code baseVersion}); a full delta ({@code indices == null}) carries every
 * entry and applies on top of anything, which is how a worker that missed one catches up. The
 * compacted {@code model-params} topic keeps whole {@link ParamUpdate}s for serving and restore.
 *
 * @param modelId the model the shard belongs to
 * @param shardId the shard
 * @param version the shard's version after this delta
 * @param baseVersion the version of the shard's previous delta, which this one applies on; -1 when full
 * @param examplesApplied number of examples whose gradients are in these values
 * @param timestampMillis wall-clock time the values were taken
 * @param length the shard's number of parameters
 * @param indices the changed entries, ascending; null for a full delta
 * @param values the values of the changed entries (of all, when full)
 * @param slots per optimizer slot, its values at the same entries
 * @param pushesApplied per worker index, the sequence number of its last push applied here
 */
public record ParamDelta(String modelId, int shardId, long version, long baseVersion, long examplesApplied,
        long timestampMillis, int length, int[] indices, float[] values, float[][] slots, long[] pushesApplied) {

    public ParamDelta {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(slots, "slots");
        Objects.requireNonNull(pushesApplied, "pushesApplied");
        int entries = indices == null ? length : indices.length;
        if (values.length != entries) {
            throw new IllegalArgumentException("Delta of shard " + shardId + " has " + values.length + " values for "
                    + entries + " entries");
        }
        for (float[] slot : slots) {
            if (slot.length != entries) {
                throw new IllegalArgumentException("Delta of shard " + shardId + " has a slot of " + slot.length
                        + " values for " + entries + " entries");
            }
        }
    }

    /** A whole shard record as a full delta (sharing its arrays): what a full delta carries, it carries. */
    public static ParamDelta whole(ParamUpdate update) {
        return new ParamDelta(update.modelId(), update.shardId(), update.version(), -1, update.examplesApplied(),
                update.timestampMillis(), update.values().length, null, update.values(), update.slots(),
                update.pushesApplied());
    }

    public boolean isFull() {
        return indices == null;
    }

    /** The last push of {@code worker} applied here (0 if none). */
    public long pushesApplied(int worker) {
        return worker < pushesApplied.length ? pushesApplied[worker] : 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParamDelta other && modelId.equals(other.modelId) && shardId == other.shardId
                && version == other.version && baseVersion == other.baseVersion
                && examplesApplied == other.examplesApplied && timestampMillis == other.timestampMillis
                && length == other.length && Arrays.equals(indices, other.indices)
                && Arrays.equals(values, other.values) && Arrays.deepEquals(slots, other.slots)
                && Arrays.equals(pushesApplied, other.pushesApplied);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, shardId, version, baseVersion) * 31 + Arrays.hashCode(indices);
    }

    @Override
    public String toString() {
        return "ParamDelta[model=" + modelId + ", shard=" + shardId + ", version=" + version + ", base=" + baseVersion
                + ", entries=" + (isFull() ? "all " + length : values.length + " of " + length) + "]";
    }
}
