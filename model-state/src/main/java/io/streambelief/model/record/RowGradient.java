package io.streambelief.model.record;

import java.util.Arrays;

/**
 * A worker's gradient for one embedding row, summed over the examples of one mini-batch that
 * touched it, on its way back to the row's shard (through the {@code embedding-gradients} topic).
 *
 * @param id the feature id (the row's key)
 * @param examples the examples the gradient covers, counted and digested, for exactly-once accounting
 * @param values gradient of lookup shape {@code [wide, e_1..e_dim]}; owned by this record
 */
public record RowGradient(long id, ExampleDigest examples, float[] values) {

    /** A gradient over {@code examples} examples whose hashes nobody kept. */
    public RowGradient(long id, int examples, float[] values) {
        this(id, ExampleDigest.ofCount(examples), values);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowGradient other && id == other.id && examples.equals(other.examples)
                && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(id) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "RowGradient[id=" + id + ", examples=" + examples.count() + ", values=" + values.length + "]";
    }
}
