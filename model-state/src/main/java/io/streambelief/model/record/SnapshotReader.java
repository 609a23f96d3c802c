package io.streambelief.model.record;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the records of {@code model-snapshots} in topic order and hands out each snapshot once
 * its manifest arrives with a chunk of the same checkpoint, at the version it names, for every
 * shard. A manifest without them is counted as torn and skipped: with a {@code read_committed}
 * consumer that never happens, since a snapshot's chunks and manifest commit in one transaction.
 *
 * <p>Not thread-safe: one reader per consumer thread.
 */
public final class SnapshotReader {
    private final Map<String, Gathering> models = new HashMap<>();
    private long torn;
    private long unreadable;

    /** Takes the value of the next record; returns the snapshot it completes, if it does. */
    public Optional<ModelSnapshot> accept(byte[] value) {
        try {
            if (value != null && value.length > 0 && value[0] == SnapshotChunkCodec.TYPE) {
                SnapshotChunk chunk = SnapshotChunkCodec.decode(value);
                models.computeIfAbsent(chunk.modelId(), m -> new Gathering()).add(chunk);
                return Optional.empty();
            }
            SnapshotManifest manifest = SnapshotManifestCodec.decode(value);
            Gathering gathering = models.get(manifest.modelId());
            Optional<ModelSnapshot> snapshot = gathering == null ? Optional.empty() : gathering.complete(manifest);
            if (snapshot.isEmpty()) {
                torn++;
            }
            return snapshot;
        } catch (RecordFormatException e) {
            unreadable++;
            return Optional.empty();
        }
    }

    /** Manifests read whose chunks were not all there. */
    public long torn() {
        return torn;
    }

    /** Records that were neither a chunk nor a manifest. */
    public long unreadable() {
        return unreadable;
    }

    /** The chunks of one model's latest checkpoint seen. */
    private static final class Gathering {
        private long checkpointId = Long.MIN_VALUE;
        private final Map<Integer, ParamUpdate> shards = new HashMap<>();

        void add(SnapshotChunk chunk) {
            if (chunk.checkpointId() != checkpointId) {
                checkpointId = chunk.checkpointId();
                shards.clear();
            }
            shards.put(chunk.shard().shardId(), chunk.shard());
        }

        Optional<ModelSnapshot> complete(SnapshotManifest manifest) {
            if (manifest.checkpointId() != checkpointId) {
                return Optional.empty();
            }
            ParamUpdate[] ordered = new ParamUpdate[manifest.shardCount()];
            for (int s = 0; s < ordered.length; s++) {
                ParamUpdate shard = shards.get(s);
                if (shard == null || shard.version() != manifest.versions()[s]
                        || shard.examplesApplied() != manifest.examplesApplied()[s]) {
                    return Optional.empty();
                }
                ordered[s] = shard;
            }
            shards.clear();
            return Optional.of(new ModelSnapshot(manifest, ordered));
        }
    }
}
