package io.streambelief.flink.sparse;

import java.nio.ByteBuffer;

import io.streambelief.model.record.ExampleDigest;

/**
 * An embedding row as its shard stores it in RocksDB: a format byte, the examples it holds (their
 * count, and from format 2 the sum and the xor of their hashes), then its floats (values and
 * optimizer slots). One codec, so that the benchmark's bare RocksDB loop reads and writes exactly
 * what the shard does. A format 1 row, of an earlier release's checkpoint, reads with its count alone.
 */
public record StoredRow(ExampleDigest examples, float[] floats) {
    private static final byte FORMAT_1 = 1;
    private static final byte FORMAT = 2;

    public byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(1 + ExampleDigest.BYTES + 4 * floats.length);
        examples.putTo(buffer.put(FORMAT)).asFloatBuffer().put(floats);
        return buffer.array();
    }

    /** Reads a stored row of {@code width} floats. */
    public static StoredRow decode(byte[] stored, int width) {
        if (stored[0] != FORMAT && stored[0] != FORMAT_1) {
            throw new IllegalStateException("Row state has format " + stored[0] + "; this build reads formats "
                    + FORMAT_1 + " and " + FORMAT);
        }
        ByteBuffer buffer = ByteBuffer.wrap(stored, 1, stored.length - 1);
        ExampleDigest examples = stored[0] == FORMAT_1 ? ExampleDigest.ofCount(buffer.getLong())
                : ExampleDigest.getFrom(buffer);
        float[] floats = new float[width];
        buffer.asFloatBuffer().get(floats);
        return new StoredRow(examples, floats);
    }
}
