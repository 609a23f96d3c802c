package io.streambelief.model.record;

import java.util.Objects;

/**
 * One shard of a model snapshot, as taken at a checkpoint barrier: written to
 * {@code model-snapshots} ahead of the {@link SnapshotManifest} that completes the snapshot.
 *
 * @param checkpointId the checkpoint whose barrier the shard was taken at
 * @param shardCount the number of shards of the whole snapshot
 * @param shard the shard's values, average and counts (no optimizer state)
 */
public record SnapshotChunk(long checkpointId, int shardCount, ParamUpdate shard) {

    public SnapshotChunk {
        Objects.requireNonNull(shard, "shard");
        if (shardCount < 1 || shard.shardId() < 0 || shard.shardId() >= shardCount) {
            throw new IllegalArgumentException("Shard " + shard.shardId() + " does not fit a snapshot of " + shardCount
                    + " shards");
        }
    }

    public String modelId() {
        return shard.modelId();
    }
}
