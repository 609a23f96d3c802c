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

    /**
     * A 64-bit hash of the label and every feature's bits (SplitMix64's finalizer over a running
     * mix): what identifies an example in the shards' {@code ExampleDigest}s, however it travelled.
     */
    public long contentHash() {
        long h = mix(0x9E3779B97F4A7C15L + label);
        for (float feature : features) {
            h = mix(h ^ (Float.floatToRawIntBits(feature) & 0xFFFFFFFFL) + 0x9E3779B97F4A7C15L);
        }
        return h;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
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
