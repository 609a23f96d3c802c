package io.streambelief.flink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.flink.config.TrainingOptions;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.flink.parse.RawRecord;
import picocli.CommandLine;

/** The job's graph, built on sources and sinks of the test's own: no broker needed. */
class TrainingJobTest {

    /** Savepoints find each operator's state by its uid: a renamed uid orphans that state. */
    @Test
    void everyOperatorKeepsTheUidItsSavepointsKnowItBy() {
        assertThat(uids(TrainingConfig.builder("b:9092").build())).containsExactlyInAnyOrder("examples-source",
                "parse-examples", "dead-letter-sink", "model-param-deltas-source", "worker", "parameter-server",
                "training-metrics-sink", "model-params-sink", "model-param-deltas-sink", "snapshot-writer",
                "model-snapshots-sink");
        assertThat(uids(TrainingConfig.builder("b:9092").mode(TrainingMode.SSP).build())).contains("bounded-worker")
                .doesNotContain("worker", "model-param-deltas-source");
        assertThat(uids(sparse())).containsExactlyInAnyOrder("examples-source", "parse-sparse-examples",
                "lookup-batcher", "dead-letter-sink", "embedding-gradients-source", "gradient-batcher",
                "fresh-embedding-gradients-source", "fresh-gradient-batcher", "embedding-shard", "embedding-rows-sink",
                "model-params-source", "sparse-worker", "embedding-gradients-sink", "parameter-server",
                "training-metrics-sink", "model-params-sink", "model-param-deltas-sink", "snapshot-writer",
                "model-snapshots-sink");
        assertThat(uids(TrainingConfig.builder("b:9092").mode(TrainingMode.FEDAVG).build())).containsExactlyInAnyOrder(
                "client-updates-source", "parse-model-updates", "dead-letter-sink", "round-coordinator",
                "federated-shard", "model-params-sink");
    }

    private static List<String> uids(TrainingConfig config) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        TrainingJob.build(env, config, new JobIo(
                new JobIo.Sources(nothing(TypeInformation.of(RawRecord.class)), nothing(RecordTypes.PARAM_UPDATE),
                        nothing(RecordTypes.PARAM_DELTA), nothing(RecordTypes.LOGGED_ROW_GRADIENT),
                        nothing(RecordTypes.LOGGED_ROW_GRADIENT), nothing(TypeInformation.of(RawRecord.class))),
                new JobIo.Sinks(new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>(),
                        new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>(), new DiscardingSink<>())));
        // A sink's writer carries the sink's uid; the nodes a sink adds after it derive theirs from it.
        return env.getStreamGraph().getStreamNodes().stream()
                .map(StreamNode::getTransformationUID)
                .filter(uid -> uid != null && !uid.contains(" "))
                .toList();
    }

    private static <T> Source<T, ?, ?> nothing(TypeInformation<T> type) {
        return new DataGeneratorSource<>(index -> {
            throw new IllegalStateException("a graph-only source");
        }, 0, type);
    }

    private static TrainingConfig sparse() {
        TrainingOptions options = new TrainingOptions();
        new CommandLine(options).parseArgs("--schema", "flights");
        return options.toConfig("b:9092", 0, 0);
    }
}
