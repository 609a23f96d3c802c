package io.streambelief.model;

/**
 * The 64-bit content hash of a training example, dense or sparse: SplitMix64's finalizer over a
 * running mix of the label and of every value's bits. It identifies an example in the
 * {@code ExampleDigest}s that shards and embedding rows keep, however the example travelled.
 */
public final class ContentHash {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private ContentHash() {}

    /** The hash of an example with {@code label} and no values yet. */
    public static long ofLabel(int label) {
        return mix(GOLDEN_GAMMA + label);
    }

    /** {@code hash} with one more value's 64 bits mixed in. */
    public static long with(long hash, long bits) {
        return mix(hash ^ bits + GOLDEN_GAMMA);
    }

    /** {@code hash} with one more float mixed in, by its raw bits. */
    public static long with(long hash, float value) {
        return with(hash, Float.floatToRawIntBits(value) & 0xFFFFFFFFL);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
