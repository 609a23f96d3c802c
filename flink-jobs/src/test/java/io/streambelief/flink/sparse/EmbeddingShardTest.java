package io.streambelief.flink.sparse;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.RowReply;
import io.streambelief.flink.io.RowRequest;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepSpec;

/** The row life cycle on the RocksDB backend: lazy creation, admission, updates, publishing, expiry. */
class EmbeddingShardTest {
    private static final long ID = 0x5eedL;
    private static final SparseTraining SPARSE =
            SparseTraining.of(FeatureSchema.load("flights"), WideDeepSpec.parse("widedeep:dim=4,mlp=8"), 1, 7);
    private static final EmbeddingTable TABLE = SPARSE.table();

    @Test
    void aLookupReadsTheDeterministicNewRowWithoutStoringIt() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement1(new StreamRecord<>(new RowRequest(ID, 1, 0, 0, example())));
            harness.processElement1(new StreamRecord<>(new RowRequest(ID, 2, 0, 0, null)));

            List<RowReply> replies = replies(harness);
            assertThat(replies).hasSize(2);
            assertThat(replies.get(0).lookup()).containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            assertThat(replies.get(0).example()).as("slot 0 brings the example back").isEqualTo(example());
            assertThat(storedRows(harness)).as("reading creates nothing").isZero();
        }
    }

    @Test
    void theFirstGradientCreatesTheRowAndEveryGradientAddsItsExamplesToTheRowsDigest() throws Exception {
        try (var harness = harness(SPARSE)) {
            float[] gradient = {0.5f, 0.1f, -0.2f, 0.3f, 0.4f};
            ExampleDigest three = new ExampleDigest(3, 0x1234_5678_9abcL, -99);
            ExampleDigest two = new ExampleDigest(2, -0x5eed, 0x7e57);
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, three, gradient)));
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, two, gradient)));
            harness.processElement1(new StreamRecord<>(new RowRequest(ID, 1, 0, 0, null)));

            float[] expected = TABLE.newRow(ID);
            TABLE.apply(expected, gradient, 0);
            TABLE.apply(expected, gradient, 0);
            assertThat(replies(harness).get(0).lookup()).containsExactly(TABLE.lookup(expected));

            harness.setProcessingTime(1_000);
            List<RowUpdate> published = published(harness);
            assertThat(published).as("two updates within an interval, one publication").hasSize(1);
            assertThat(published.get(0).examples()).isEqualTo(three.plus(two));
            assertThat(published.get(0).values()).containsExactly(TABLE.lookup(expected));
        }
    }

    @Test
    void rowsUpdatedSinceTheLastPublicationArePublishedBeforeACheckpointBarrier() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 2, new float[] {1, 1, 1, 1, 1})));
            harness.prepareSnapshotPreBarrier(1);

            assertThat(published(harness)).extracting(RowUpdate::id, RowUpdate::examplesApplied)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(ID, 2L));
            harness.setProcessingTime(1_000);
            assertThat(published(harness)).as("nothing left for the interval's end").hasSize(1);
        }
    }

    @Test
    void anIdGetsARowOnlyFromItsMinCountthSighting() throws Exception {
        try (var harness = harness(SPARSE.withRows(3, null))) {
            float[] gradient = {1, 1, 1, 1, 1};
            for (int sighting = 1; sighting <= 3; sighting++) {
                harness.processElement1(new StreamRecord<>(new RowRequest(ID, sighting, 0, 0, null)));
                harness.processElement2(new StreamRecord<>(new RowGradient(ID, 1, gradient)));
            }
            harness.processElement1(new StreamRecord<>(new RowRequest(ID, 4, 0, 0, null)));

            List<RowReply> replies = replies(harness);
            assertThat(replies.get(0).lookup()).as("first sighting: the zero row").isNull();
            assertThat(replies.get(1).lookup()).as("second sighting: still not admitted").isNull();
            assertThat(replies.get(2).lookup()).as("third: admitted").containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            float[] row = TABLE.newRow(ID);
            TABLE.apply(row, gradient, 0);
            assertThat(replies.get(3).lookup()).as("only the gradient after admission was applied")
                    .containsExactly(TABLE.lookup(row));
        }
    }

    @Test
    void rowsUntouchedForTheTtlDisappearAndStartAfresh() throws Exception {
        try (var harness = harness(SPARSE.withRows(1, Duration.ofMinutes(10)))) {
            float[] gradient = {1, 1, 1, 1, 1};
            harness.setStateTtlProcessingTime(0);
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 1, gradient)));
            harness.processElement2(new StreamRecord<>(new RowGradient(ID + 1, 1, gradient)));
            harness.setStateTtlProcessingTime(Duration.ofMinutes(9).toMillis());
            harness.processElement2(new StreamRecord<>(new RowGradient(ID + 1, 1, gradient)));

            harness.setStateTtlProcessingTime(Duration.ofMinutes(11).toMillis());
            harness.processElement1(new StreamRecord<>(new RowRequest(ID, 1, 0, 0, null)));
            harness.processElement1(new StreamRecord<>(new RowRequest(ID + 1, 2, 0, 0, null)));

            List<RowReply> replies = replies(harness);
            assertThat(replies.get(0).lookup()).as("untouched for 11 minutes: expired, read as new")
                    .containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            float[] touched = TABLE.newRow(ID + 1);
            TABLE.apply(touched, gradient, 0);
            TABLE.apply(touched, gradient, 0);
            assertThat(replies.get(1).lookup()).as("touched 2 minutes ago: kept").containsExactly(TABLE.lookup(touched));
        }
    }

    @Test
    void nonFiniteGradientsNeverReachTheRow() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 1, new float[] {Float.NaN, 0, 0, 0, 0})));
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 1, new float[] {0, Float.POSITIVE_INFINITY, 0, 0, 0})));
            assertThat(storedRows(harness)).isZero();
        }
    }

    /** A record of another width would fail the task at every replay; one of no examples would corrupt the count. */
    @Test
    void gradientsOfAnotherWidthOrOfNoExamplesAreRefused() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 1, new float[] {1, 2})));
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 1, new float[50])));
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, -7, new float[] {0, 0, 0, 0, 0})));
            harness.processElement2(new StreamRecord<>(new RowGradient(ID, 0, new float[] {0, 0, 0, 0, 0})));
            assertThat(storedRows(harness)).isZero();
        }
    }

    private static SparseExample example() {
        return new SparseExample(new long[] {ID}, new float[] {1f}, 1);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<Long, RowRequest, RowGradient, RowReply> harness(
            SparseTraining sparse) throws Exception {
        var harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new EmbeddingShardOperator(new EmbeddingShard("flights", sparse, 1_000)),
                RowRequest::id, RowGradient::id, Types.LONG);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        harness.open();
        return harness;
    }

    private static long storedRows(KeyedTwoInputStreamOperatorTestHarness<Long, RowRequest, RowGradient, RowReply> h) {
        try (var keys = h.getOperator().getKeyedStateBackend().getKeys("rows", VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    private static List<RowReply> replies(KeyedTwoInputStreamOperatorTestHarness<Long, RowRequest, RowGradient, RowReply> h) {
        return h.extractOutputValues();
    }

    private static List<RowUpdate> published(KeyedTwoInputStreamOperatorTestHarness<Long, RowRequest, RowGradient, RowReply> h) {
        return h.getSideOutput(EmbeddingShard.ROW_UPDATES).stream().map(StreamRecord::getValue).toList();
    }
}
