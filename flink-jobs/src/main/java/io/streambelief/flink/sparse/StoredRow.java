package io.streambelief.flink.sparse;

import java.nio.ByteBuffer;

/**
 * An embedding row as its shard stores it in RocksDB: a format byte, the examples it holds, then
 * its floats (values and optimizer slots). One codec, so that the benchmark's bare RocksDB loop
 * reads and writes exactly what the shard does.
 */
public record StoredRow(long examples, float[] floats) {
    private static final byte FORMAT = 1;

    public byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(1 + 8 + 4 * floats.length);
        buffer.put(FORMAT).putLong(examples);
        buffer.asFloatBuffer().put(floats);
        return buffer.array();
    }

    /** Reads a stored row of {@code width} floats. */
    public static StoredRow decode(byte[] stored, int width) {
        if (stored[0] != FORMAT) {
            throw new IllegalStateException("Row state has format " + stored[0] + "; this build reads format " + FORMAT);
        }
        ByteBuffer buffer = ByteBuffer.wrap(stored, 1, stored.length - 1);
        long examples = buffer.getLong();
        float[] floats = new float[width];
        buffer.asFloatBuffer().get(floats);
        return new StoredRow(examples, floats);
    }
}
