package io.streambelief.model.sparse;

import java.util.Arrays;

import io.streambelief.model.ContentHash;

/**
 * One labelled example of a sparse model: one feature id per slot (each categorical field and
 * each cross of the schema, in the schema's order), the numeric inputs, and a 0/1 label. Arrays
 * are owned by the example once constructed.
 */
public record SparseExample(long[] ids, float[] numerics, int label) {

    public SparseExample {
        if (ids == null || numerics == null) {
            throw new IllegalArgumentException("A sparse example needs ids and numerics");
        }
        if (label != 0 && label != 1) {
            throw new IllegalArgumentException("A sparse example's label is 0 or 1, got " + label);
        }
    }

    /** The example's {@link ContentHash}: of its label, its ids and its numerics' bits. */
    public long contentHash() {
        long hash = ContentHash.ofLabel(label);
        for (long id : ids) {
            hash = ContentHash.with(hash, id);
        }
        for (float numeric : numerics) {
            hash = ContentHash.with(hash, numeric);
        }
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SparseExample other && label == other.label && Arrays.equals(ids, other.ids)
                && Arrays.equals(numerics, other.numerics);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(ids) + Arrays.hashCode(numerics)) + label;
    }

    @Override
    public String toString() {
        return "SparseExample[label=" + label + ", ids=" + Arrays.toString(ids) + ", numerics="
                + Arrays.toString(numerics) + "]";
    }
}
