package io.streambelief.model.record;

import java.util.Arrays;

/**
 * One worker's push to one parameter shard: the gradient for that shard's range, summed over the
 * worker's last {@code nPush} mini-batches (each the mean over its examples).
 *
 * <p>Dense, one float per parameter of the shard, or sparse: the few entries a compressed push
 * sends, by ascending index. A compressed push keeps 1% of a shard's entries; holding it sparse
 * lets the worker encode it without scanning, and allocating, the whole shard again.
 */
public final class GradientSlice {
    private final int shardId;
    private final int worker;
    private final long push;
    private final long baseVersion;
    private final int examples;
    private final int length;
    /** Null for a dense slice. */
    private final int[] indices;
    private final float[] values;
    private final ExampleDigest digest;

    /**
     * A dense slice.
     *
     * @param shardId the shard (and parameter-server key)
     * @param worker the pushing worker's index
     * @param push the worker's push sequence number (1, 2, ...), acknowledged in the shard's updates
     * @param baseVersion the shard version the gradient was computed on, for staleness
     * @param examples how many examples the gradient covers, for accounting
     * @param values the gradient, one float per parameter of the shard; owned by this record
     */
    public GradientSlice(int shardId, int worker, long push, long baseVersion, int examples, float[] values) {
        this(shardId, worker, push, baseVersion, examples, values.length, null, values);
    }

    /** A dense slice that acknowledges nothing: for tests and tools that do not track pushes. */
    public GradientSlice(int shardId, long baseVersion, int examples, float[] values) {
        this(shardId, 0, 0, baseVersion, examples, values);
    }

    private GradientSlice(int shardId, int worker, long push, long baseVersion, int examples, int length,
            int[] indices, float[] values) {
        this(shardId, worker, push, baseVersion, examples, length, indices, values, ExampleDigest.EMPTY);
    }

    private GradientSlice(int shardId, int worker, long push, long baseVersion, int examples, int length,
            int[] indices, float[] values, ExampleDigest digest) {
        this.digest = digest;
        this.shardId = shardId;
        this.worker = worker;
        this.push = push;
        this.baseVersion = baseVersion;
        this.examples = examples;
        this.length = length;
        this.indices = indices;
        this.values = values;
    }

    /**
     * A sparse slice: the gradient is {@code values[n]} at {@code indices[n]} and zero elsewhere.
     *
     * @param length the shard's length
     * @param indices strictly ascending, below {@code length}; owned by this record
     * @param values as many as {@code indices}; owned by this record
     */
    public static GradientSlice sparse(int shardId, int worker, long push, long baseVersion, int examples, int length,
            int[] indices, float[] values) {
        if (indices.length != values.length) {
            throw new IllegalArgumentException(indices.length + " indices for " + values.length + " values");
        }
        int previous = -1;
        for (int index : indices) {
            if (index <= previous || index >= length) {
                throw new IllegalArgumentException("Indices must ascend within [0, " + length + "), got " + index
                        + " after " + previous);
            }
            previous = index;
        }
        return new GradientSlice(shardId, worker, push, baseVersion, examples, length, indices, values);
    }

    public int shardId() {
        return shardId;
    }

    public int worker() {
        return worker;
    }

    public long push() {
        return push;
    }

    public long baseVersion() {
        return baseVersion;
    }

    public int examples() {
        return examples;
    }

    /** The shard's length: how many floats {@link #values()} has. */
    public int length() {
        return length;
    }

    public boolean isSparse() {
        return indices != null;
    }

    /** A sparse slice's indices (ascending); not for a dense one. */
    public int[] indices() {
        if (indices == null) {
            throw new IllegalStateException("A dense slice has no index list");
        }
        return indices;
    }

    /** A sparse slice's values, at {@link #indices()}; a dense slice's values. Not a copy. */
    public float[] entries() {
        return values;
    }

    /** The gradient, one float per parameter of the shard: a dense slice's own array, a new one for a sparse slice. */
    public float[] values() {
        if (indices == null) {
            return values;
        }
        float[] dense = new float[length];
        for (int n = 0; n < indices.length; n++) {
            dense[indices[n]] = values[n];
        }
        return dense;
    }

    /** The digest of the examples the gradient covers (empty where nobody kept one). */
    public ExampleDigest digest() {
        return digest;
    }

    /** The same slice (sharing its arrays) covering the examples of {@code examplesDigest}. */
    public GradientSlice withDigest(ExampleDigest examplesDigest) {
        return new GradientSlice(shardId, worker, push, baseVersion, examples, length, indices, values, examplesDigest);
    }

    /** The same slice with its own arrays. */
    public GradientSlice copy() {
        return new GradientSlice(shardId, worker, push, baseVersion, examples, length,
                indices == null ? null : indices.clone(), values.clone(), digest);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientSlice other && shardId == other.shardId && worker == other.worker
                && push == other.push && baseVersion == other.baseVersion && examples == other.examples
                && length == other.length && digest.equals(other.digest) && Arrays.equals(values(), other.values());
    }

    @Override
    public int hashCode() {
        return 31 * (31 * shardId + Long.hashCode(baseVersion)) + Arrays.hashCode(values());
    }

    @Override
    public String toString() {
        return "GradientSlice[shard=" + shardId + ", worker=" + worker + ", push=" + push + ", baseVersion="
                + baseVersion + ", examples=" + examples + ", length=" + length
                + (indices == null ? "" : ", entries=" + indices.length) + "]";
    }
}
