package io.streambelief.model;

import java.util.Arrays;

/**
 * One labelled training example: a dense feature vector and a class index. The array is owned by
 * the example once constructed: nobody writes to it afterwards.
 */
public record Example(float[] features, int label) {

    public Example {
        if (features == null) {
            throw new IllegalArgumentException("An example needs features");
        }
        if (label < 0) {
            throw new IllegalArgumentException("A label is a class index >= 0, got " + label);
        }
    }

    /** The example's {@link ContentHash}: of its label and every feature's bits. */
    public long contentHash() {
        long hash = ContentHash.ofLabel(label);
        for (float feature : features) {
            hash = ContentHash.with(hash, feature);
        }
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Example other && label == other.label && Arrays.equals(features, other.features);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(features) + label;
    }

    @Override
    public String toString() {
        return "Example[label=" + label + ", features=" + features.length + "]";
    }
}
