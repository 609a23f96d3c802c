package io.streambelief.flink.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.model.record.ModelSnapshot;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.SnapshotChunk;
import io.streambelief.model.record.SnapshotChunkCodec;
import io.streambelief.model.record.SnapshotReader;

class SnapshotWriterTest {

    @Test
    void writesNothingUntilEveryShardOfTheCheckpointIsInThenTheShardsInOrderAndTheManifest() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(chunk(7, 2, 3), 0);
            harness.processElement(chunk(7, 0, 3), 0);
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.processElement(chunk(7, 1, 3), 0);

            List<byte[]> written = harness.extractOutputValues();
            assertThat(written).hasSize(4);
            ModelSnapshot snapshot = readAll(written).get(0);
            assertThat(snapshot.checkpointId()).isEqualTo(7);
            assertThat(snapshot.shards()).extracting(ParamUpdate::shardId).containsExactly(0, 1, 2);
            assertThat(snapshot.manifest().versions()).containsExactly(70, 71, 72);
        }
    }

    @Test
    void anAbandonedCheckpointsShardsAreDroppedOnceALaterOneIsComplete() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.processElement(chunk(3, 0, 2), 0);
            harness.processElement(chunk(4, 0, 2), 0);
            harness.processElement(chunk(4, 1, 2), 0);
            harness.processElement(chunk(5, 1, 2), 0);
            harness.processElement(chunk(3, 1, 2), 0);

            assertThat(readAll(harness.extractOutputValues())).extracting(ModelSnapshot::checkpointId)
                    .as("3 came too late: only 4 was ever whole").containsExactly(4L);
        }
    }

    @Test
    void aGatheringInProgressSurvivesARestore() throws Exception {
        OperatorSubtaskState checkpoint;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(chunk(9, 0, 2), 0);
            checkpoint = harness.snapshot(1, 1);
        }
        try (var restored = harness()) {
            restored.initializeState(checkpoint);
            restored.open();
            restored.processElement(chunk(9, 1, 2), 0);

            assertThat(readAll(restored.extractOutputValues())).extracting(ModelSnapshot::checkpointId)
                    .containsExactly(9L);
        }
    }

    private static OneInputStreamOperatorTestHarness<byte[], byte[]> harness() throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new SnapshotWriter()));
    }

    /** Shard {@code shard}'s chunk of checkpoint {@code checkpoint}, at version 70 + shard. */
    private static byte[] chunk(long checkpoint, int shard, int shards) {
        return SnapshotChunkCodec.encode(new SnapshotChunk(checkpoint, shards,
                new ParamUpdate("m", shard, 70 + shard, 100, 0, new float[] {shard})));
    }

    private static List<ModelSnapshot> readAll(List<byte[]> records) {
        SnapshotReader reader = new SnapshotReader();
        return records.stream().flatMap(r -> reader.accept(r).stream()).toList();
    }
}
