package io.streambelief.model.record;

import java.nio.ByteBuffer;

import io.streambelief.model.Example;
import io.streambelief.model.sparse.SparseExample;

/**
 * An order-independent digest of a multiset of examples: how many, and the sum and the xor of
 * their 64-bit content hashes. Each shard keeps the digest of the examples whose gradients it
 * applied, so exactly-once can be checked on the examples themselves, not on a count: a batch
 * lost and another applied twice leave the count right but the sum wrong, and an example applied
 * twice changes the sum but not the xor.
 */
public record ExampleDigest(long count, long sum, long xor) {
    public static final ExampleDigest EMPTY = new ExampleDigest(0, 0, 0);
    /** The size of the binary form ({@link #putTo}): count, sum and xor. */
    public static final int BYTES = 3 * Long.BYTES;

    /** The digest of one example. */
    public static ExampleDigest of(Example example) {
        return ofHash(example.contentHash());
    }

    /** The digest of one example of a sparse model. */
    public static ExampleDigest of(SparseExample example) {
        return ofHash(example.contentHash());
    }

    private static ExampleDigest ofHash(long hash) {
        return new ExampleDigest(1, hash, hash);
    }

    /** The digest of {@code count} examples whose hashes nobody kept (records of an earlier format, tests). */
    public static ExampleDigest ofCount(long count) {
        return new ExampleDigest(count, 0, 0);
    }

    /** Writes the binary form, count, sum and xor, to {@code buffer}; returns the buffer. */
    public ByteBuffer putTo(ByteBuffer buffer) {
        return buffer.putLong(count).putLong(sum).putLong(xor);
    }

    /** Reads what {@link #putTo} wrote. */
    public static ExampleDigest getFrom(ByteBuffer buffer) {
        return new ExampleDigest(buffer.getLong(), buffer.getLong(), buffer.getLong());
    }

    /** The digest of both multisets together. */
    public ExampleDigest plus(ExampleDigest other) {
        return new ExampleDigest(count + other.count, sum + other.sum, xor ^ other.xor);
    }
}
