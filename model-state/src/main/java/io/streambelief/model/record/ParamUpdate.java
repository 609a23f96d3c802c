package io.streambelief.model.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * The latest state of one parameter shard, as the parameter server publishes it to the compacted
 * {@code model-params} topic. Everything is absolute, so applying a record twice, or reading the
 * topic from the beginning, gives the same model; and with the optimizer's slots and the pushes
 * applied, the topic holds the parameter server's complete state.
 *
 * @param modelId the model the shard belongs to
 * @param shardId the shard
 * @param version number of gradients applied to this shard
 * @param examplesApplied number of examples whose gradients are in these values
 * @param timestampMillis wall-clock time the values were taken
 * @param values the shard's parameters; owned by this record
 * @param slots the optimizer's per-parameter state for the shard (none for plain SGD)
 * @param pushesApplied per worker index, the sequence number of its last push applied here, so a
 *     worker knows which of its own gradients these values already contain
 * @param average the moving average of the values over recent steps (what serving answers with
 *     by default); empty when averaging is off or for readers that do not need it
 * @param digest the examples whose gradients are in these values, as an order-independent digest
 *     (empty where none was kept), to check exactly-once on the examples themselves
 */
public record ParamUpdate(String modelId, int shardId, long version, long examplesApplied, long timestampMillis,
        float[] values, float[][] slots, long[] pushesApplied, float[] average, ExampleDigest digest) {

    private static final float[] NONE = new float[0];

    public ParamUpdate {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(slots, "slots");
        Objects.requireNonNull(pushesApplied, "pushesApplied");
        Objects.requireNonNull(average, "average");
        if (average.length != 0 && average.length != values.length) {
            throw new IllegalArgumentException("Shard " + shardId + " has " + values.length + " values but an average of "
                    + average.length);
        }
    }

    /** Without a digest of the examples. */
    public ParamUpdate(String modelId, int shardId, long version, long examplesApplied, long timestampMillis,
            float[] values, float[][] slots, long[] pushesApplied, float[] average) {
        this(modelId, shardId, version, examplesApplied, timestampMillis, values, slots, pushesApplied, average,
                ExampleDigest.EMPTY);
    }

    /** Values only: no optimizer state, no pushes acknowledged, no average. */
    public ParamUpdate(String modelId, int shardId, long version, long examplesApplied, long timestampMillis,
            float[] values) {
        this(modelId, shardId, version, examplesApplied, timestampMillis, values, new float[0][], new long[0], NONE);
    }

    public boolean hasAverage() {
        return average.length > 0;
    }

    /** The same record without its average, for readers that only need the training state. */
    public ParamUpdate withoutAverage() {
        return hasAverage() ? new ParamUpdate(modelId, shardId, version, examplesApplied, timestampMillis, values, slots,
                pushesApplied, NONE, digest) : this;
    }

    /** The sequence number of {@code worker}'s last push contained in these values (0: none). */
    public long pushesApplied(int worker) {
        return worker < pushesApplied.length ? pushesApplied[worker] : 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParamUpdate other && modelId.equals(other.modelId) && shardId == other.shardId
                && version == other.version && examplesApplied == other.examplesApplied
                && timestampMillis == other.timestampMillis && Arrays.equals(values, other.values)
                && Arrays.deepEquals(slots, other.slots) && Arrays.equals(pushesApplied, other.pushesApplied)
                && Arrays.equals(average, other.average) && digest.equals(other.digest);
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
