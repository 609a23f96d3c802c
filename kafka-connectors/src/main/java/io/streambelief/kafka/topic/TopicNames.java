package io.streambelief.kafka.topic;

import java.io.Serializable;
import java.util.List;

/** The topics one Streambelief deployment uses; every name is configurable, these are the defaults. */
public record TopicNames(String examples, String modelParams, String modelSnapshots, String deadLetter,
        String trainingMetrics)
        implements Serializable {

    public static final TopicNames DEFAULTS =
            new TopicNames("examples", "model-params", "model-snapshots", "dead-letter", "training-metrics");

    public TopicNames {
        for (String name : List.of(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics)) {
            if (name == null || !name.matches("[A-Za-z0-9._-]{1,249}")) {
                throw new IllegalArgumentException("'" + name + "' is not a valid Kafka topic name");
            }
        }
    }

    public List<String> all() {
        return List.of(examples, modelParams, modelSnapshots, deadLetter, trainingMetrics);
    }
}
