package io.streambelief.model.record;

import java.nio.ByteBuffer;

/**
 * Binary form of {@link SnapshotManifest} (format 1): model id, checkpoint id, timestamp, shard
 * count, then per shard its version and examples applied, in the {@link Frame} envelope.
 */
public final class SnapshotManifestCodec {
    static final byte TYPE = 'S';
    private static final Frame FRAME = new Frame("SnapshotManifest", TYPE, (byte) 1);

    private SnapshotManifestCodec() {}

    public static byte[] encode(SnapshotManifest manifest) {
        ByteBuffer buffer = FRAME.begin(Frame.stringSize(manifest.modelId()) + 8 + 8 + 4 + 16 * manifest.shardCount());
        Frame.putString(buffer, manifest.modelId());
        buffer.putLong(manifest.checkpointId()).putLong(manifest.timestampMillis()).putInt(manifest.shardCount());
        for (int s = 0; s < manifest.shardCount(); s++) {
            buffer.putLong(manifest.versions()[s]).putLong(manifest.examplesApplied()[s]);
        }
        return FRAME.seal(buffer);
    }

    public static SnapshotManifest decode(byte[] bytes) {
        return FRAME.read(bytes, body -> {
            String modelId = Frame.getString(body);
            long checkpointId = body.getLong();
            long timestamp = body.getLong();
            int shards = body.getInt();
            if (shards < 1 || (long) shards * 16 > body.remaining()) {
                throw new RecordFormatException("SnapshotManifest record names " + shards + " shards");
            }
            long[] versions = new long[shards];
            long[] examples = new long[shards];
            for (int s = 0; s < shards; s++) {
                versions[s] = body.getLong();
                examples[s] = body.getLong();
            }
            return new SnapshotManifest(modelId, checkpointId, timestamp, versions, examples);
        });
    }
}
