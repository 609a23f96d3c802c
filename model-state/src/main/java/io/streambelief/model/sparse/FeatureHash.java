package io.streambelief.model.sparse;

import java.nio.charset.StandardCharsets;

/**
 * Turns a categorical value into its 64-bit feature id: FNV-1a over the UTF-8 bytes of the field
 * name, a separator and the value, finished with SplitMix64's mixer so that near-identical
 * strings land far apart. There is no modulo bucket: with 64 bits, ten million ids collide with
 * a probability of about 3e-6, so every value effectively gets a row of its own (Monolith's
 * "collisionless" table).
 *
 * <p>The function is part of the model's contract — training, serving and any saved table must
 * agree on it — so it must never change; {@link #VERSION} names it in published definitions.
 */
public final class FeatureHash {
    /** Names this hash function; bump it (and keep the old one) if the function ever changes. */
    public static final int VERSION = 1;

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    private static final byte SEPARATOR = 0x1f;

    private FeatureHash() {}

    /** The id of {@code value} in field {@code field}. */
    public static long id(String field, String value) {
        long h = bytes(FNV_OFFSET, field);
        h = (h ^ SEPARATOR) * FNV_PRIME;
        return mix(bytes(h, value));
    }

    /** The id of a cross: the named cross of the values, one per crossed field, in order. */
    public static long cross(String cross, String... values) {
        long h = bytes(FNV_OFFSET, cross);
        for (String value : values) {
            h = (h ^ SEPARATOR) * FNV_PRIME;
            h = bytes(h, value);
        }
        return mix(h);
    }

    private static long bytes(long h, String text) {
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * FNV_PRIME;
        }
        return h;
    }

    /** SplitMix64's finalizer (Steele, Lea and Flood, 2014): spreads any 64-bit value over all 64 bits. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
