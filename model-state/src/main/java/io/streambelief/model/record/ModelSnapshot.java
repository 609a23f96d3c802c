package io.streambelief.model.record;

import java.util.Arrays;

/**
 * A whole model as it was at one checkpoint: the manifest and every shard, in shard order.
 *
 * @param shards one per shard, each with the version the manifest names
 */
public record ModelSnapshot(SnapshotManifest manifest, ParamUpdate[] shards) {

    public String modelId() {
        return manifest.modelId();
    }

    public long checkpointId() {
        return manifest.checkpointId();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSnapshot other && manifest.equals(other.manifest) && Arrays.equals(shards, other.shards);
    }

    @Override
    public int hashCode() {
        return manifest.hashCode();
    }

    @Override
    public String toString() {
        return "ModelSnapshot[" + manifest + "]";
    }
}
