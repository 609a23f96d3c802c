package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.define;
import static io.streambelief.serving.ModelStoreTest.publishShard;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.record.ParamUpdate;

class TrainingHistoryTest {
    private static final long NOW = 10_000;

    @Test
    void theExampleCountAddsEachWorkersLatestReportHoweverTheyInterleave() {
        TrainingHistory history = new TrainingHistory();
        history.add(TrainingMetrics.of("m", 0, 1_000, 100, 100, 1, 2.0, 0.1), NOW);
        history.add(TrainingMetrics.of("m", 1, 1_500, 80, 80, 1, 2.1, 0.1), NOW);
        history.add(TrainingMetrics.of("m", 0, 3_000, 300, 200, 2, 1.0, 0.5), NOW);

        assertThat(history.training("m")).extracting(TrainingHistory.TrainingPoint::examples)
                .containsExactly(100L, 180L, 380L);
        assertThat(history.training("m").get(2).loss()).isEqualTo(1.0);
        assertThat(history.models()).containsExactly("m");
        assertThat(history.training("other")).isEmpty();
    }

    @Test
    void aBinaryModelsReportsKeepTheirAucAndOthersHaveNone() {
        TrainingHistory history = new TrainingHistory();
        history.add(TrainingMetrics.of("flights", 0, 1_000, 100, 100, 1, 0.45, 0.8).withAuc(0.71), NOW);
        history.add(TrainingMetrics.of("m", 0, 1_000, 100, 100, 1, 2.0, 0.1), NOW);
        history.add(TrainingMetrics.of("flights", 0, 2_000, 200, 100, 1, 0.44, 0.8).withAuc(Double.NaN), NOW);

        assertThat(history.training("flights").get(0).auc()).isEqualTo(0.71);
        assertThat(history.training("flights").get(1).auc()).as("not reported").isNaN();
        assertThat(history.training("m").get(0).auc()).isNaN();
    }

    @Test
    void eachSeriesKeepsOnlyItsNewestPoints() {
        TrainingHistory history = new TrainingHistory(3);
        for (int i = 1; i <= 5; i++) {
            history.add(TrainingMetrics.of("m", 0, i * 1_000L, i * 10L, 10, 1, 1.0 / i, 0.5), NOW);
        }

        assertThat(history.training("m")).extracting(TrainingHistory.TrainingPoint::timeMillis)
                .containsExactly(3_000L, 4_000L, 5_000L);
    }

    /** training-metrics is input: no report may skew the curves or grow the history without end. */
    @Test
    void reportsThatWouldPoisonTheDashboardAreRefusedAndLeaveItAsItWas() {
        TrainingHistory history = new TrainingHistory();
        history.add(TrainingMetrics.of("m", 0, 1_000, 100, 100, 1, 2.0, 0.1), NOW);

        for (TrainingMetrics hostile : new TrainingMetrics[] {
            TrainingMetrics.of("m", 0, NOW + 365L * 24 * 3600 * 1000, 200, 100, 1, 2.0, 0.1),
            TrainingMetrics.of("m", 0, 2_000, 200, 100, 1, Double.NaN, 0.1),
            TrainingMetrics.of("m", 0, 2_000, 200, 100, 1, Double.POSITIVE_INFINITY, 0.1),
            TrainingMetrics.of("m", 0, 2_000, 200, 100, 1, 2.0, 7),
            TrainingMetrics.of("m", 0, 2_000, -5, 100, 1, 2.0, 0.1),
            TrainingMetrics.of("m", 1 << 30, 2_000, 200, 100, 1, 2.0, 0.1),
            TrainingMetrics.of("../../etc", 0, 2_000, 200, 100, 1, 2.0, 0.1),
            TrainingMetrics.of("x".repeat(1 << 16), 0, 2_000, 200, 100, 1, 2.0, 0.1),
        }) {
            assertThatThrownBy(() -> history.add(hostile, NOW)).isInstanceOf(IllegalArgumentException.class);
        }
        for (int m = 1; m < TrainingHistory.MAX_MODELS; m++) {
            history.add(TrainingMetrics.of("model-" + m, 0, 1_000, 1, 1, 1, 1.0, 0.5), NOW);
        }
        assertThatThrownBy(() -> history.add(TrainingMetrics.of("one-too-many", 0, 1_000, 1, 1, 1, 1.0, 0.5), NOW))
                .hasMessageContaining("100 models");

        assertThat(history.training("m")).extracting(TrainingHistory.TrainingPoint::timeMillis).containsExactly(1_000L);
        assertThat(history.models()).hasSize(TrainingHistory.MAX_MODELS);
    }

    @Test
    void samplesRecordEachServedModelsVersionExamplesAndAge() {
        ModelStore store = new ModelStore();
        define(store, DEFINITION);
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            publishShard(store, new ParamUpdate("m", shard, 1, 64, 10_000 + shard, new float[LAYOUT.length(shard)]));
        }
        store.publish();
        TrainingHistory history = new TrainingHistory();

        history.sample(store, 12_500);

        assertThat(history.served("m")).containsExactly(
                new TrainingHistory.ServedPoint(12_500, 30_003, 64, 12_500 - 10_002));
    }
}
