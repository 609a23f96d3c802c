package io.streambelief.serving;

import java.util.function.Function;

import io.streambelief.model.ModelSpec;

/**
 * A served model that takes rows of numbers, one input tensor of {@code spec.numInputs()} per
 * instance, and answers class probabilities with its MLP. The components are those of
 * {@link ServedModel}.
 */
public record DenseModel(String name, ModelSpec spec, long modelVersion, long examplesTrained, long updatedAtMillis,
        int shards, long checkpointId, Network latest, Network average) implements ServedModel {

    /** Class probabilities for each row (one probability per row for a binary model). */
    public float[][] predict(float[][] rows) {
        return predict(rows, defaultParameters());
    }

    public float[][] predict(float[][] rows, Parameters parameters) {
        return network(parameters).output(rows);
    }

    /** The same, gathered with other requests' rows on the same parameter set as {@code batching} says. */
    float[][] predict(float[][] rows, Parameters parameters, PredictionBatcher.Settings batching) {
        return network(parameters).output(rows, batching);
    }

    @Override
    public <T> T fold(Function<? super DenseModel, ? extends T> dense,
            Function<? super WideDeepModel, ? extends T> wideDeep) {
        return dense.apply(this);
    }
}
