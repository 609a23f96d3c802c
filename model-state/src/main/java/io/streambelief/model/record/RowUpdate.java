package io.streambelief.model.record;

import java.util.Arrays;

/**
 * The current value of one embedding row as its shard publishes it to the compacted
 * {@code embedding-rows} topic (key {@code <modelId>/rows/<id>}): absolute, so applying one twice
 * or out of date order is caught by the timestamp.
 *
 * @param examples the examples whose gradients the row holds, counted and digested
 * @param values lookup shape {@code [wide, e_1..e_dim]}; owned by this record
 */
public record RowUpdate(String modelId, long id, ExampleDigest examples, long timestampMillis, float[] values) {

    /** A row holding {@code examplesApplied} examples whose hashes nobody kept. */
    public RowUpdate(String modelId, long id, long examplesApplied, long timestampMillis, float[] values) {
        this(modelId, id, ExampleDigest.ofCount(examplesApplied), timestampMillis, values);
    }

    /** How many examples' gradients the row holds. */
    public long examplesApplied() {
        return examples.count();
    }

    /** The same row stamped {@code millis}. */
    public RowUpdate stampedAt(long millis) {
        return new RowUpdate(modelId, id, examples, millis, values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowUpdate other && modelId.equals(other.modelId) && id == other.id
                && examples.equals(other.examples) && timestampMillis == other.timestampMillis
                && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(id) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "RowUpdate[" + modelId + "/" + Long.toHexString(id) + ", examples=" + examples.count() + "]";
    }
}
