package io.streambelief.flink.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.time.Duration;
import java.util.List;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.Federation;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.federated.ClientSampling;
import io.streambelief.model.federated.ServerOptimizer;
import io.streambelief.model.record.ModelUpdate;

/** The round coordinator on RocksDB state with Flink's own clock: when rounds close, and who counts after a restore. */
class RoundCoordinatorTest {
    /** Ten parameters in two shards. */
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:4-2", 1);
    private static final long DEADLINE = 10_000;

    @Test
    void aRoundClosesAtItsDeadlineWithMinClientsWhenASampledClientNeverReports() throws Exception {
        try (var harness = harness(fedavg(2))) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(update("client-0", 0, 10), 0);
            harness.processElement(update("client-1", 0, 30), 0);
            assertThat(harness.extractOutputValues()).as("a slice per shard and update, weighted by examples")
                    .extracting(ShardContribution::shard, ShardContribution::weight, ShardContribution::closes)
                    .containsExactly(tuple(0, 10.0, false), tuple(1, 10.0, false), tuple(0, 30.0, false),
                            tuple(1, 30.0, false));

            harness.setProcessingTime(DEADLINE - 1);
            assertThat(closes(harness)).as("client-2 may still come").isEmpty();
            harness.setProcessingTime(DEADLINE);
            assertThat(closes(harness)).as("the deadline, with min-clients").containsExactly(0L, 0L);

            int before = harness.extractOutputValues().size();
            harness.processElement(update("client-2", 0, 10), DEADLINE + 1);
            assertThat(harness.extractOutputValues()).as("too late for round 0: dropped").hasSize(before);
        }
    }

    @Test
    void belowMinClientsTheDeadlineWaitsAndTheRoundClosesWithTheNextUpdate() throws Exception {
        try (var harness = harness(fedavg(2))) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(update("client-0", 0, 10), 0);
            harness.setProcessingTime(2 * DEADLINE);
            assertThat(closes(harness)).isEmpty();

            harness.processElement(update("client-1", 0, 10), 2 * DEADLINE);
            assertThat(closes(harness)).containsExactly(0L, 0L);
        }
    }

    @Test
    void aRestoredCoordinatorKnowsWhoItCountedAndClosesWhenAllSampledHaveReported() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var harness = harness(fedavg(2))) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(update("client-0", 0, 10), 0);
            checkpoint = harness.snapshot(1, 1);
        }
        try (var restored = harness(fedavg(2))) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.setProcessingTime(1);
            restored.processElement(update("client-0", 0, 99), 1); // replayed, or retried with other values
            assertThat(restored.extractOutputValues()).as("counted before the checkpoint").isEmpty();

            restored.processElement(update("client-1", 0, 10), 1);
            restored.processElement(update("client-2", 0, 10), 1);
            assertThat(closes(restored)).as("all three sampled clients, long before the deadline")
                    .containsExactly(0L, 0L);
            restored.processElement(update("client-0", 1, 10), 2);
            assertThat(restored.extractOutputValues()).last().as("round 1 is open")
                    .satisfies(last -> assertThat(last.version()).isEqualTo(1));
        }
    }

    @Test
    void fedBuffClosesEveryKUpdatesWeightingEachByItsStaleness() throws Exception {
        Federation federation = new Federation(ClientSampling.ANY_CLIENT, 1, Duration.ofMillis(DEADLINE), 2, 1,
                ServerOptimizer.parse("fedavg"), 0, 10, 1e-5);
        try (var harness = harness(TrainingConfig.builder("b:9092").mode(TrainingMode.FEDBUFF).spec(SPEC).shardSize(5)
                .federation(federation).build())) {
            harness.open();
            harness.processElement(update("a", 0, 10), 0);
            harness.processElement(update("b", 0, 10), 0);
            assertThat(closes(harness)).containsExactly(0L, 0L);

            harness.processElement(update("c", 0, 10), 0); // one version behind
            List<ShardContribution> out = harness.extractOutputValues();
            assertThat(out.get(out.size() - 1).weight()).isEqualTo(1 / Math.sqrt(2));
            harness.processElement(update("d", 1, 10), 0);
            harness.processElement(update("e", 0, 10), 0); // two behind, over the bound of 1
            assertThat(closes(harness)).containsExactly(0L, 0L, 1L, 1L);
            assertThat(harness.extractOutputValues()).hasSize(out.size() + 2 + 2);
        }
    }

    private static TrainingConfig fedavg(int minClients) {
        Federation federation = new Federation(new ClientSampling(3, 3, 7), minClients, Duration.ofMillis(DEADLINE),
                Federation.DEFAULT_BUFFER_SIZE, Federation.DEFAULT_MAX_STALENESS, ServerOptimizer.parse("fedavg"), 0, 10,
                1e-5);
        return TrainingConfig.builder("b:9092").mode(TrainingMode.FEDAVG).spec(SPEC).shardSize(5).federation(federation)
                .build();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ModelUpdate, ShardContribution> harness(
            TrainingConfig config) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new RoundCoordinator(config)),
                ModelUpdate::modelId, Types.STRING);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        return harness;
    }

    /** FedAvg: round = base version; FedBuff reads only the base. */
    private static ModelUpdate update(String client, long round, long examples) {
        float[] delta = new float[(int) SPEC.numParams()];
        delta[0] = 1;
        return new ModelUpdate("fashion", client, round, round, examples, 0, delta);
    }

    private static List<Long> closes(KeyedOneInputStreamOperatorTestHarness<String, ModelUpdate, ShardContribution> harness) {
        return harness.extractOutputValues().stream().filter(ShardContribution::closes).map(ShardContribution::version)
                .toList();
    }
}
