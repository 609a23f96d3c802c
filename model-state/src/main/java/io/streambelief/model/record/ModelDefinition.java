package io.streambelief.model.record;

import java.util.Objects;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.sparse.SparseDefinition;

/**
 * Everything a reader of {@code model-params} needs to turn shards into a model: the model id,
 * its spec (DL4J JSON with the seed, so unpublished shards are the known initial values) and the
 * shard size; for a sparse model also its {@link SparseDefinition} (null for a dense one).
 * Published under the key {@code <modelId>/spec}.
 */
public record ModelDefinition(String modelId, ModelSpec spec, int shardSize, SparseDefinition sparse) {

    /** A dense model's definition. */
    public ModelDefinition(String modelId, ModelSpec spec, int shardSize) {
        this(modelId, spec, shardSize, null);
    }

    public ModelDefinition {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(spec, "spec");
        ModelIds.check(modelId);
    }

    public ParameterLayout layout() {
        return ParameterLayout.of(spec, shardSize);
    }
}
