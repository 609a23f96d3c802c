package io.streambelief.model.record;

import java.util.Arrays;

/**
 * The current value of one embedding row as its shard publishes it to the compacted
 * {@code embedding-rows} topic (key {@code <modelId>/rows/<id>}): absolute, so applying one twice
 * or out of date order is caught by the timestamp.
 *
 * @param examples the examples whose gradients the row holds, counted and digested
 * @param timestampMillis when the shard published it
 * @param gradientMillis when the oldest gradient it holds that the row's previous publication
 *     did not was created: what a reader measures the row's lag from; 0 when unknown
 * @param values lookup shape {@code [wide, e_1..e_dim]}; owned by this record
 */
public record RowUpdate(String modelId, long id, ExampleDigest examples, long timestampMillis, long gradientMillis,
        float[] values) {

    /** A row whose gradients' creation nobody noted. */
    public RowUpdate(String modelId, long id, ExampleDigest examples, long timestampMillis, float[] values) {
        this(modelId, id, examples, timestampMillis, 0, values);
    }

    /** A row holding {@code examplesApplied} examples whose hashes nobody kept. */
    public RowUpdate(String modelId, long id, long examplesApplied, long timestampMillis, float[] values) {
        this(modelId, id, ExampleDigest.ofCount(examplesApplied), timestampMillis, values);
    }

    /** How many examples' gradients the row holds. */
    public long examplesApplied() {
        return examples.count();
    }

    /** The same row published at {@code millis}, holding gradients created from {@code gradientMillis} on. */
    public RowUpdate stampedAt(long millis, long gradientMillis) {
        return new RowUpdate(modelId, id, examples, millis, gradientMillis, values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowUpdate other && modelId.equals(other.modelId) && id == other.id
                && examples.equals(other.examples) && timestampMillis == other.timestampMillis
                && gradientMillis == other.gradientMillis && Arrays.equals(values, other.values);
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
