package io.streambelief.model.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * The record that completes a model snapshot on {@code model-snapshots}: which checkpoint it is
 * and, per shard, the version and examples applied of the chunk that belongs to it (the version
 * vector). A reader takes a snapshot as whole only if it holds a chunk of this checkpoint for
 * every shard, with these versions.
 *
 * @param checkpointId the checkpoint whose barrier the shards were taken at
 * @param timestampMillis when the snapshot was completed
 * @param versions per shard, its version (gradients applied)
 * @param examplesApplied per shard, the examples whose gradients it holds
 */
public record SnapshotManifest(String modelId, long checkpointId, long timestampMillis, long[] versions,
        long[] examplesApplied) {

    public SnapshotManifest {
        Objects.requireNonNull(modelId, "modelId");
        if (versions.length == 0 || versions.length != examplesApplied.length) {
            throw new IllegalArgumentException("A snapshot manifest needs a version and an example count per shard, got "
                    + versions.length + " and " + examplesApplied.length);
        }
    }

    public int shardCount() {
        return versions.length;
    }

    /** The manifest of a complete set of chunks, one per shard in shard order, of one checkpoint. */
    public static SnapshotManifest of(ParamUpdate[] shards, long checkpointId, long timestampMillis) {
        long[] versions = new long[shards.length];
        long[] examples = new long[shards.length];
        for (int s = 0; s < shards.length; s++) {
            versions[s] = shards[s].version();
            examples[s] = shards[s].examplesApplied();
        }
        return new SnapshotManifest(shards[0].modelId(), checkpointId, timestampMillis, versions, examples);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotManifest other && modelId.equals(other.modelId) && checkpointId == other.checkpointId
                && timestampMillis == other.timestampMillis && Arrays.equals(versions, other.versions)
                && Arrays.equals(examplesApplied, other.examplesApplied);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, checkpointId) * 31 + Arrays.hashCode(versions);
    }

    @Override
    public String toString() {
        return "SnapshotManifest[" + modelId + " checkpoint " + checkpointId + ", versions "
                + Arrays.toString(versions) + "]";
    }
}
