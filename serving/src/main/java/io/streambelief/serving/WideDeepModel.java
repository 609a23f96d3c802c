package io.streambelief.serving;

import java.util.function.Function;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.sparse.SparseDefinition;
import io.streambelief.model.sparse.WideDeepEngine;

/**
 * A served wide &amp; deep model: a request names raw fields, which its {@code schema} turns into
 * ids and numeric inputs exactly as training does; the ids' rows are in the {@link RowStore}, and
 * {@code spec} is the deep part's MLP. The other components are those of {@link ServedModel}.
 *
 * @param sparse the schema's source and JSON, the wide &amp; deep preset and the table's layout, as defined
 * @param schema {@code sparse}'s schema, parsed once when the model was defined
 */
public record WideDeepModel(String name, ModelSpec spec, long modelVersion, long examplesTrained,
        long updatedAtMillis, int shards, long checkpointId, Network latest, Network average, SparseDefinition sparse,
        FeatureSchema schema) implements ServedModel {

    /**
     * Probabilities for {@code size} requests, given their rows as looked up
     * ({@code size × slots × (1 + dim)}) and their numeric inputs: the same computation as in
     * training ({@link WideDeepEngine#probabilities}).
     */
    public float[] predict(float[] lookups, float[] numerics, int size, Parameters parameters) {
        return network(parameters).borrow(network -> WideDeepEngine.probabilities(
                network, schema.slots(), sparse.table().dim(), numerics.length / size, lookups, numerics, size));
    }

    @Override
    public String specLabel() {
        return sparse.model().toString();
    }

    @Override
    public <T> T fold(Function<? super DenseModel, ? extends T> dense,
            Function<? super WideDeepModel, ? extends T> wideDeep) {
        return wideDeep.apply(this);
    }
}
