package io.streambelief.kafka.topic;

import java.io.Serializable;
import java.util.List;

/**
 * The topics one Streambelief deployment uses; every name is configurable, these are the defaults.
 * {@code model-param-deltas} carries what changed in each shard to the async workers. Sparse models
 * add two: {@code embedding-gradients} (row gradients on their way back to the rows' shards) and
 * {@code embedding-rows} (the rows as published, compacted). Federated training adds
 * {@code client-updates}, where clients send their model updates to the aggregator.
 */
public record TopicNames(String examples, String modelParams, String modelSnapshots, String deadLetter,
        String trainingMetrics, String embeddingGradients, String embeddingRows, String modelParamDeltas,
        String clientUpdates) implements Serializable {

    public static final String EXAMPLES = "examples";
    public static final String MODEL_PARAMS = "model-params";
    public static final String MODEL_SNAPSHOTS = "model-snapshots";
    public static final String DEAD_LETTER = "dead-letter";
    public static final String TRAINING_METRICS = "training-metrics";
    public static final String EMBEDDING_GRADIENTS = "embedding-gradients";
    public static final String EMBEDDING_ROWS = "embedding-rows";
    public static final String MODEL_PARAM_DELTAS = "model-param-deltas";
    public static final String CLIENT_UPDATES = "client-updates";

    public static final TopicNames DEFAULTS =
            new TopicNames(EXAMPLES, MODEL_PARAMS, MODEL_SNAPSHOTS, DEAD_LETTER, TRAINING_METRICS);

    /** The dense topics named, the sparse ones at their defaults. */
    public TopicNames(String examples, String modelParams, String modelSnapshots, String deadLetter,
            String trainingMetrics) {
        this(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics, EMBEDDING_GRADIENTS, EMBEDDING_ROWS);
    }

    /** The dense and sparse topics named, the deltas' at its default. */
    public TopicNames(String examples, String modelParams, String modelSnapshots, String deadLetter,
            String trainingMetrics, String embeddingGradients, String embeddingRows) {
        this(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics, embeddingGradients, embeddingRows,
                MODEL_PARAM_DELTAS);
    }

    /** All but the client updates' named, that at its default. */
    public TopicNames(String examples, String modelParams, String modelSnapshots, String deadLetter,
            String trainingMetrics, String embeddingGradients, String embeddingRows, String modelParamDeltas) {
        this(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics, embeddingGradients, embeddingRows,
                modelParamDeltas, CLIENT_UPDATES);
    }

    public TopicNames {
        for (String name : List.of(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics,
                embeddingGradients, embeddingRows, modelParamDeltas, clientUpdates)) {
            if (name == null || !name.matches("[A-Za-z0-9._-]{1,249}")) {
                throw new IllegalArgumentException("'" + name + "' is not a valid Kafka topic name");
            }
        }
    }

    public List<String> all() {
        return List.of(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics, embeddingGradients,
                embeddingRows, modelParamDeltas, clientUpdates);
    }
}
