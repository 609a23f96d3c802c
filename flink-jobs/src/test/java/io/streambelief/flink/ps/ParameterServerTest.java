package io.streambelief.flink.ps;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.SnapshotChunk;
import io.streambelief.model.record.SnapshotChunkCodec;

class ParameterServerTest {
    /** 43 parameters in shards of 20, 20 and 3. */
    private static final TrainingConfig CONFIG = TrainingConfig.builder("unused:9092")
            .modelId("tiny")
            .spec(ModelSpec.parse("mlp:6-4-3", 1))
            .shardSize(20)
            .optimizer(Optimizer.sgd(0.5))
            .build();
    private static final ParameterLayout LAYOUT = CONFIG.layout();
    private static final float[] INITIAL = CONFIG.spec().initialParameters();
    private static final long PUBLISH = CONFIG.publishInterval().toMillis();

    @Test
    void appliesEveryGradientAndPublishesEachShardOncePerInterval() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(ones(0, 0, 10), 0);
            harness.processElement(ones(0, 0, 10), 0);
            harness.processElement(ones(2, 0, 10), 0);
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.setProcessingTime(PUBLISH);

            List<ParamUpdate> published = harness.extractOutputValues();
            assertThat(published).extracting(ParamUpdate::shardId).containsExactlyInAnyOrder(0, 2);
            ParamUpdate shard0 = published.stream().filter(u -> u.shardId() == 0).findFirst().orElseThrow();
            assertThat(shard0.modelId()).isEqualTo("tiny");
            assertThat(shard0.version()).isEqualTo(2);
            assertThat(shard0.examplesApplied()).isEqualTo(20);
            assertThat(shard0.values()).usingComparatorWithPrecision(1e-6f).containsExactly(shifted(LAYOUT.slice(INITIAL, 0), -1f));
        }
    }

    /**
     * The workers' deltas keep the publish interval while the whole shard, hundreds of kilobytes
     * for the broker and the model server, goes at most every serving interval — and the last
     * changes still go, one serving interval after the previous whole shard.
     */
    @Test
    void asyncWorkersGetDeltasEveryPublishIntervalWhileTheWholeShardGoesAtMostEveryServingInterval()
            throws Exception {
        TrainingConfig config = CONFIG.toBuilder().servingPublishInterval(Duration.ofMillis(10 * PUBLISH)).build();
        try (var harness = harness(config)) {
            harness.open();
            harness.setProcessingTime(0);
            for (int i = 1; i <= 25; i++) {
                harness.processElement(ones(0, 0, 1), 0);
                harness.setProcessingTime(i * PUBLISH);
            }
            harness.setProcessingTime(40 * PUBLISH);

            assertThat(harness.getSideOutput(ParameterServer.DELTAS)).as("deltas").hasSize(25);
            assertThat(harness.extractOutputValues()).extracting(ParamUpdate::examplesApplied)
                    .as("whole shards: at the first publish, then once per serving interval, the last with every example")
                    .containsExactly(1L, 11L, 21L, 25L);
        }
    }

    @Test
    void aGradientWithNanIsRefusedAndNothingIsPublished() throws Exception {
        try (var harness = harness()) {
            harness.open();
            float[] poisoned = new float[LAYOUT.length(1)];
            poisoned[3] = Float.NaN;
            harness.processElement(new GradientSlice(1, 0, 5, poisoned), 0);
            harness.setProcessingTime(PUBLISH);

            assertThat(harness.extractOutputValues()).isEmpty();

            harness.processElement(ones(1, 0, 5), PUBLISH);
            harness.setProcessingTime(3 * PUBLISH);
            ParamUpdate update = harness.extractOutputValues().get(0);
            assertThat(update.version()).isEqualTo(1);
            assertThat(update.values()).usingComparatorWithPrecision(1e-6f).containsExactly(shifted(LAYOUT.slice(INITIAL, 1), -0.5f));
        }
    }

    @Test
    void aCheckpointOnRocksDbHoldsEveryGradientAppliedBeforeTheBarrier() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(ones(0, 0, 7), 0);
            harness.processElement(ones(2, 0, 7), 0);
            // Not yet published and not yet written to state: only the pre-barrier write-back saves them.
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1);
        }

        try (var restored = harness()) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.processElement(ones(0, 1, 3), 0);
            restored.setProcessingTime(PUBLISH);

            ParamUpdate shard0 = restored.extractOutputValues().get(0);
            assertThat(shard0.version()).isEqualTo(2);
            assertThat(shard0.examplesApplied()).isEqualTo(10);
            assertThat(shard0.values()).usingComparatorWithPrecision(1e-6f).containsExactly(shifted(LAYOUT.slice(INITIAL, 0), -1f));
        }
    }

    @Test
    void atEachBarrierEveryShardGoesOutAsASnapshotChunkOfThatCheckpoint() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(ones(0, 0, 7), 0);

            harness.prepareSnapshotPreBarrier(5);

            List<SnapshotChunk> chunks = harness.getSideOutput(ParameterServerOperator.SNAPSHOT_CHUNKS).stream()
                    .map(record -> SnapshotChunkCodec.decode(record.getValue())).toList();
            assertThat(chunks).extracting(SnapshotChunk::checkpointId).containsOnly(5L);
            assertThat(chunks).extracting(chunk -> chunk.shard().shardId()).as("untouched shards too")
                    .containsExactlyInAnyOrder(0, 1, 2);
            SnapshotChunk shard0 = chunks.stream().filter(c -> c.shard().shardId() == 0).findFirst().orElseThrow();
            assertThat(shard0.shardCount()).isEqualTo(3);
            assertThat(shard0.shard().examplesApplied()).isEqualTo(7);
            assertThat(shard0.shard().values()).usingComparatorWithPrecision(1e-6f)
                    .containsExactly(shifted(LAYOUT.slice(INITIAL, 0), -0.5f));
            SnapshotChunk shard1 = chunks.stream().filter(c -> c.shard().shardId() == 1).findFirst().orElseThrow();
            assertThat(shard1.shard().values()).containsExactly(LAYOUT.slice(INITIAL, 1));
            assertThat(harness.extractOutputValues()).as("a snapshot is no publication").isEmpty();
        }
    }

    @Test
    void theEndOfABoundedInputPublishesWhatIsPending() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(ones(1, 0, 4), 0);

            harness.endInput();
            harness.getOperator().finish();

            assertThat(harness.extractOutputValues()).extracting(ParamUpdate::shardId, ParamUpdate::examplesApplied)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(1, 4L));
        }
    }

    /**
     * After a restore from an unaligned checkpoint, worker 0's push of step 2 may arrive before
     * worker 1's of step 1 (replayed from another channel): a step is every worker's push of
     * that step, not any two pushes.
     */
    @Test
    void underBspAStepGathersEveryWorkersPushOfThatStepWhateverArrivesFirst() throws Exception {
        TrainingConfig bsp = TrainingConfig.builder("unused:9092").modelId("tiny").spec(CONFIG.spec()).shardSize(20)
                .optimizer(Optimizer.sgd(0.5)).workers(2).mode(TrainingMode.BSP).build();
        try (var harness = harness(bsp)) {
            harness.open();
            harness.processElement(push(0, 1, 1f), 0);
            harness.processElement(push(0, 2, 4f), 0);
            assertThat(harness.extractOutputValues()).as("step 1 lacks worker 1").isEmpty();

            harness.processElement(push(1, 1, 3f), 0);
            harness.processElement(push(1, 2, 2f), 0);

            List<ParamUpdate> published = harness.extractOutputValues();
            assertThat(published).extracting(update -> update.pushesApplied()[0] + ":" + update.pushesApplied()[1])
                    .containsExactly("1:1", "2:2");
            assertThat(published.get(0).values()).usingComparatorWithPrecision(1e-6f)
                    .containsExactly(shifted(LAYOUT.slice(INITIAL, 0), -0.5f * 2f));
            assertThat(published.get(1).values()).usingComparatorWithPrecision(1e-6f)
                    .containsExactly(shifted(LAYOUT.slice(INITIAL, 0), -0.5f * 5f));
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<Integer, GradientSlice, ParamUpdate> harness()
            throws Exception {
        return harness(CONFIG);
    }

    private static KeyedOneInputStreamOperatorTestHarness<Integer, GradientSlice, ParamUpdate> harness(
            TrainingConfig config) throws Exception {
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new ParameterServerOperator(new ParameterServer(config)), ShardKeys.spread(config.layout().shardCount()).selector(), Types.INT);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        return harness;
    }

    private static GradientSlice ones(int shard, long baseVersion, int examples) {
        float[] gradient = new float[LAYOUT.length(shard)];
        Arrays.fill(gradient, 1f);
        return new GradientSlice(shard, baseVersion, examples, gradient);
    }

    /** Worker {@code worker}'s push {@code push} of 8 examples to shard 0, every entry {@code value}. */
    private static GradientSlice push(int worker, long push, float value) {
        float[] gradient = new float[LAYOUT.length(0)];
        Arrays.fill(gradient, value);
        return new GradientSlice(0, worker, push, 0, 8, gradient);
    }

    private static float[] shifted(float[] values, float delta) {
        float[] result = values.clone();
        for (int i = 0; i < result.length; i++) {
            result[i] += delta;
        }
        return result;
    }
}
