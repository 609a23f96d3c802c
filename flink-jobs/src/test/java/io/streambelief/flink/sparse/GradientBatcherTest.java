package io.streambelief.flink.sparse;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;

import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.LoggedRowGradient;
import io.streambelief.flink.io.RowGradients;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.sparse.WideDeepSpec;

/** Gradients grouped by the shard that holds their rows, and nothing held across a barrier. */
class GradientBatcherTest {
    private static final SparseTraining TWO_SHARDS =
            SparseTraining.of(FeatureSchema.load("flights"), WideDeepSpec.parse("widedeep:dim=4,mlp=8"), 2, 1);

    @Test
    void gradientsGoToTheirRowsShardWithTheirCreationTimeAndPlaceAtEveryTickAndBeforeEveryBarrier() throws Exception {
        try (var harness = new OneInputStreamOperatorTestHarness<>(new GradientBatcher(TWO_SHARDS, false))) {
            harness.open();
            harness.setProcessingTime(0);
            for (long id = 1; id <= 20; id++) {
                harness.processElement(new StreamRecord<>(gradient(id), 1_000 + id));
            }
            assertThat(harness.extractOutputValues()).as("held until the tick").isEmpty();
            harness.setProcessingTime(GradientBatcher.TICK_MILLIS);

            List<RowGradients> sent = harness.extractOutputValues();
            assertThat(sent).extracting(RowGradients::shard).containsExactlyInAnyOrder(0, 1);
            for (RowGradients batch : sent) {
                assertThat(batch.committed()).as("the fresh batcher's").isFalse();
                assertThat(batch.gradients()).allSatisfy(g -> assertThat(TWO_SHARDS.shardOf(g.id())).isEqualTo(batch.shard()));
                for (int i = 0; i < batch.gradients().length; i++) {
                    long id = batch.gradients()[i].id();
                    assertThat(batch.createdMillis()[i]).isEqualTo(1_000 + id);
                    assertThat(batch.partitions()[i]).isEqualTo((int) id % 3);
                    assertThat(batch.offsets()[i]).isEqualTo(100 + id);
                }
            }
            assertThat(sent.stream().flatMap(b -> Arrays.stream(b.gradients())).map(RowGradient::id))
                    .containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L, 16L,
                            17L, 18L, 19L, 20L);

            harness.processElement(new StreamRecord<>(gradient(21), 0));
            harness.prepareSnapshotPreBarrier(1);
            assertThat(harness.extractOutputValues()).as("flushed before the barrier").hasSize(3);
        }
    }

    @Test
    void aFullShardGoesAtOnce() throws Exception {
        try (var harness = new OneInputStreamOperatorTestHarness<>(new GradientBatcher(TWO_SHARDS, true))) {
            harness.open();
            long id = 0;
            for (int sent = 0; sent < GradientBatcher.MAX_GRADIENTS; id++) {
                if (TWO_SHARDS.shardOf(id) == 1) {
                    harness.processElement(new StreamRecord<>(gradient(id), 0));
                    sent++;
                }
            }
            assertThat(harness.extractOutputValues()).singleElement()
                    .satisfies(batch -> assertThat(batch.gradients()).hasSize(GradientBatcher.MAX_GRADIENTS));
        }
    }

    /** Row {@code id}'s gradient, read at offset 100 + id of partition id mod 3. */
    private static LoggedRowGradient gradient(long id) {
        return new LoggedRowGradient((int) id % 3, 100 + id, new RowGradient(id, 1, new float[] {1, 2, 3, 4, 5}));
    }
}
