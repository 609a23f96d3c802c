package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Binary form of {@link SnapshotChunk} (format 1): checkpoint id, shard count, then the shard as
 * a length-prefixed {@link ParamUpdateCodec} record, in the {@link Frame} envelope.
 */
public final class SnapshotChunkCodec {
    static final byte TYPE = 'C';
    private static final Frame FRAME = new Frame("SnapshotChunk", TYPE, (byte) 1);

    private SnapshotChunkCodec() {}

    public static byte[] encode(SnapshotChunk chunk) {
        byte[] shard = ParamUpdateCodec.encode(chunk.shard());
        ByteBuffer buffer = FRAME.begin(8 + 4 + 4 + shard.length);
        buffer.putLong(chunk.checkpointId()).putInt(chunk.shardCount()).putInt(shard.length).put(shard);
        return FRAME.seal(buffer);
    }

    public static SnapshotChunk decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            long checkpointId = body.getLong();
            int shardCount = body.getInt();
            int length = body.getInt();
            if (length < 0 || length > body.remaining()) {
                throw new java.nio.BufferUnderflowException();
            }
            byte[] shard = new byte[length];
            body.get(shard);
            try {
                return new SnapshotChunk(checkpointId, shardCount, ParamUpdateCodec.decode(shard));
            } catch (IllegalArgumentException e) {
                throw new RecordFormatException("SnapshotChunk record is inconsistent: " + e.getMessage());
            }
        });
    }
}
