package io.streambelief.flink.sparse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.RowGradients;
import io.streambelief.flink.io.RowLookup;
import io.streambelief.flink.io.RowLookupReply;
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
    private static final SparseExample[] NO_EXAMPLES = {};
    private static final float[] G1 = {0.5f, 0.1f, -0.2f, 0.3f, 0.4f};
    private static final float[] G2 = {-0.25f, 0.3f, 0.7f, -0.1f, 0.2f};

    private long nextOffset;

    @Test
    void aLookupReadsTheDeterministicNewRowWithoutStoringIt() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement1(lookup(1, example(), ID));
            harness.processElement1(lookup(2, NO_EXAMPLES, ID));

            List<RowLookupReply> replies = replies(harness);
            assertThat(replies).hasSize(2);
            assertThat(onlyRow(replies.get(0))).containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            assertThat(replies.get(0).examples()).as("the examples come back with the reply").containsExactly(example());
            assertThat(storedRows(harness)).as("reading creates nothing").isZero();
        }
    }

    /**
     * A batch's one lookup of many ids answers, id for id, what a lookup of each alone would: rows
     * with gradients, rows not yet created, and ids not yet admitted (read as zeros), with the
     * same sightings counted.
     */
    @Test
    void aLookupOfManyIdsAnswersWhatALookupOfEachAloneWould() throws Exception {
        long[] ids = {ID, ID + 1, ID + 2, ID + 3};
        float[] gradient = {0.5f, 0.1f, -0.2f, 0.3f, 0.4f};
        SparseTraining admitAtSecond = SPARSE.withRows(2, null);
        try (var batched = harness(admitAtSecond); var single = harness(admitAtSecond)) {
            for (var harness : List.of(batched, single)) {
                // ID and ID + 1 seen once before, so admitted at this lookup; ID gets a row.
                harness.processElement1(lookup(1, NO_EXAMPLES, ID));
                harness.processElement1(lookup(2, NO_EXAMPLES, ID + 1));
                harness.processElement2(gradients(new RowGradient(ID, 1, gradient)));
            }
            batched.processElement1(lookup(3, example(), ids));
            for (long id : ids) {
                single.processElement1(lookup(3, NO_EXAMPLES, id));
            }
            batched.processElement1(lookup(4, NO_EXAMPLES, ids));

            List<RowLookupReply> singles = replies(single).subList(2, 6);
            List<RowLookupReply> batches = replies(batched).subList(2, 4);
            float[] expected = new float[0];
            for (RowLookupReply reply : singles) {
                expected = concat(expected, reply.lookups());
            }
            assertThat(batches.get(0).ids()).containsExactly(ids);
            assertThat(batches.get(0).lookups()).containsExactly(expected);
            assertThat(batches.get(0).examples()).containsExactly(example());
            assertThat(row(expected, 1)).as("admitted at this sighting: its new row")
                    .containsExactly(TABLE.lookup(TABLE.newRow(ID + 1)));
            assertThat(row(expected, 2)).as("first sighting: zeros").containsOnly(0f);
            assertThat(row(batches.get(1).lookups(), 3)).as("the batch counted each id's sighting: admitted at the next")
                    .containsExactly(TABLE.lookup(TABLE.newRow(ID + 3)));
        }
    }

    /** Every id of a lookup is read under its own key, not only the first (which is the record's key). */
    @Test
    void aLookupReadsTheRowOfEveryIdNotOnlyOfItsFirst() throws Exception {
        try (var harness = harness(SPARSE)) {
            float[] gradient = {0.5f, 0.1f, -0.2f, 0.3f, 0.4f};
            harness.processElement2(gradients(new RowGradient(ID + 1, 1, gradient)));
            harness.processElement2(gradients(new RowGradient(ID + 7, 1, gradient), new RowGradient(ID + 2, 1, gradient)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID, ID + 1, ID + 2));

            float[] lookups = replies(harness).get(0).lookups();
            for (long id : new long[] {ID + 1, ID + 2}) {
                float[] expected = TABLE.newRow(id);
                TABLE.apply(expected, gradient, 0);
                assertThat(row(lookups, (int) (id - ID))).as("row %d", id).containsExactly(TABLE.lookup(expected));
            }
        }
    }

    /** A row written on the wrong subtask could never be restored to its key group's place. */
    @Test
    void anIdRoutedToASubtaskThatDoesNotHoldItsKeyGroupFailsTheTask() throws Exception {
        SparseTraining twoShards = SparseTraining.of(FeatureSchema.load("flights"), WideDeepSpec.parse("widedeep:dim=4,mlp=8"),
                2, 7);
        long other = ID;
        while (twoShards.shardOf(other) == 0) {
            other++;
        }
        long ours = other + 1;
        while (twoShards.shardOf(ours) != 0) {
            ours++;
        }
        try (var harness = new KeyedTwoInputStreamOperatorTestHarness<>(new EmbeddingShard("flights", twoShards, 1_000),
                (RowLookup lookup) -> lookup.ids()[0], (RowGradients g) -> g.gradients()[0].id(), Types.LONG,
                SparseTraining.MAX_EMBEDDING_SHARDS, 2, 0)) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend());
            harness.open();
            var both = lookup(2, NO_EXAMPLES, ours, other);
            harness.processElement1(lookup(1, NO_EXAMPLES, ours));
            assertThatThrownBy(() -> harness.processElement1(both))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("routed");
        }
    }

    private static float[] row(float[] lookups, int index) {
        int width = TABLE.lookupWidth();
        return Arrays.copyOfRange(lookups, index * width, (index + 1) * width);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    @Test
    void theFirstGradientCreatesTheRowAndEveryGradientAddsItsExamplesToTheRowsDigest() throws Exception {
        try (var harness = harness(SPARSE)) {
            float[] gradient = {0.5f, 0.1f, -0.2f, 0.3f, 0.4f};
            ExampleDigest three = new ExampleDigest(3, 0x1234_5678_9abcL, -99);
            ExampleDigest two = new ExampleDigest(2, -0x5eed, 0x7e57);
            harness.processElement2(gradients(new RowGradient(ID, three, gradient)));
            harness.processElement2(gradients(new RowGradient(ID, two, gradient)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));

            float[] expected = TABLE.newRow(ID);
            TABLE.apply(expected, gradient, 0);
            TABLE.apply(expected, gradient, 0);
            assertThat(onlyRow(replies(harness).get(0))).containsExactly(TABLE.lookup(expected));

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
            harness.processElement2(gradients(new RowGradient(ID, 2, new float[] {1, 1, 1, 1, 1})));
            harness.prepareSnapshotPreBarrier(1);

            assertThat(published(harness)).extracting(RowUpdate::id, RowUpdate::examplesApplied)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(ID, 2L));
            harness.setProcessingTime(1_000);
            assertThat(published(harness)).as("nothing left for the interval's end").hasSize(1);
        }
    }

    /** Row lag: from the creation of the oldest gradient a publication holds (its Kafka timestamp) to the publication. */
    @Test
    void eachPublicationRecordsTheLagOfTheOldestGradientItHolds() throws Exception {
        try (var harness = harness(SPARSE)) {
            float[] gradient = {1, 1, 1, 1, 1};
            long now = System.currentTimeMillis();
            harness.processElement2(gradientsAt(now - 3_000, new RowGradient(ID, 1, gradient)));
            harness.processElement2(gradientsAt(now - 1_000, new RowGradient(ID, 1, gradient)));
            harness.processElement2(gradientsAt(now - 500, new RowGradient(ID + 1, 1, gradient)));
            harness.prepareSnapshotPreBarrier(1);

            var lag = ((EmbeddingShard) harness.getOperator()).rowLag().getStatistics();
            assertThat(lag.size()).as("one per row published").isEqualTo(2);
            assertThat(lag.getMax()).as("the row's oldest gradient").isBetween(3_000L, 3_000L + 60_000);
            assertThat(lag.getMin()).isBetween(500L, 500L + 60_000);
        }
    }

    @Test
    void anIdGetsARowOnlyFromItsMinCountthSighting() throws Exception {
        try (var harness = harness(SPARSE.withRows(3, null))) {
            float[] gradient = {1, 1, 1, 1, 1};
            for (int sighting = 1; sighting <= 3; sighting++) {
                harness.processElement1(lookup(sighting, NO_EXAMPLES, ID));
                harness.processElement2(gradients(new RowGradient(ID, 1, gradient)));
            }
            harness.processElement1(lookup(4, NO_EXAMPLES, ID));

            List<RowLookupReply> replies = replies(harness);
            assertThat(onlyRow(replies.get(0))).as("first sighting: the zero row").containsOnly(0f);
            assertThat(onlyRow(replies.get(1))).as("second sighting: still not admitted").containsOnly(0f);
            assertThat(onlyRow(replies.get(2))).as("third: admitted").containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            float[] row = TABLE.newRow(ID);
            TABLE.apply(row, gradient, 0);
            assertThat(onlyRow(replies.get(3))).as("only the gradient after admission was applied")
                    .containsExactly(TABLE.lookup(row));
        }
    }

    @Test
    void rowsUntouchedForTheTtlDisappearAndStartAfresh() throws Exception {
        try (var harness = harness(SPARSE.withRows(1, Duration.ofMinutes(10)))) {
            float[] gradient = {1, 1, 1, 1, 1};
            harness.setStateTtlProcessingTime(0);
            harness.processElement2(gradients(new RowGradient(ID, 1, gradient)));
            harness.processElement2(gradients(new RowGradient(ID + 1, 1, gradient)));
            harness.setStateTtlProcessingTime(Duration.ofMinutes(9).toMillis());
            harness.processElement2(gradients(new RowGradient(ID + 1, 1, gradient)));

            harness.setStateTtlProcessingTime(Duration.ofMinutes(11).toMillis());
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));
            harness.processElement1(lookup(2, NO_EXAMPLES, ID + 1));

            List<RowLookupReply> replies = replies(harness);
            assertThat(onlyRow(replies.get(0))).as("untouched for 11 minutes: expired, read as new")
                    .containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            float[] touched = TABLE.newRow(ID + 1);
            TABLE.apply(touched, gradient, 0);
            TABLE.apply(touched, gradient, 0);
            assertThat(onlyRow(replies.get(1))).as("touched 2 minutes ago: kept").containsExactly(TABLE.lookup(touched));
        }
    }

    @Test
    void nonFiniteGradientsNeverReachTheRow() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(gradients(new RowGradient(ID, 1, new float[] {Float.NaN, 0, 0, 0, 0})));
            harness.processElement2(gradients(new RowGradient(ID, 1, new float[] {0, Float.POSITIVE_INFINITY, 0, 0, 0})));
            assertThat(storedRows(harness)).isZero();
        }
    }

    /** A record of another width would fail the task at every replay; one of no examples would corrupt the count. */
    @Test
    void gradientsOfAnotherWidthOrOfNoExamplesAreRefused() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(gradients(new RowGradient(ID, 1, new float[] {1, 2})));
            harness.processElement2(gradients(new RowGradient(ID, 1, new float[50])));
            harness.processElement2(gradients(new RowGradient(ID, -7, new float[] {0, 0, 0, 0, 0})));
            harness.processElement2(gradients(new RowGradient(ID, 0, new float[] {0, 0, 0, 0, 0})));
            assertThat(storedRows(harness)).isZero();
        }
    }

    // Fresh rows: gradients read as soon as written show in lookups and publications; only
    // committed ones reach the stored rows.

    @Test
    void aGradientWrittenButNotYetCommittedShowsInLookupsAndPublicationsButIsNotStored() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(fresh(10, new RowGradient(ID, 2, G1)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));
            harness.prepareSnapshotPreBarrier(1);

            float[] ahead = TABLE.newRow(ID);
            TABLE.apply(ahead, G1, 0);
            assertThat(onlyRow(replies(harness).get(0))).containsExactly(TABLE.lookup(ahead));
            assertThat(published(harness)).singleElement().satisfies(update -> {
                assertThat(update.values()).containsExactly(TABLE.lookup(ahead));
                assertThat(update.examplesApplied()).isEqualTo(2);
            });
            assertThat(storedRows(harness)).as("not committed: not in the state").isZero();

            harness.processElement2(committed(10, new RowGradient(ID, 2, G1)));
            harness.processElement1(lookup(2, NO_EXAMPLES, ID));
            harness.prepareSnapshotPreBarrier(2);
            assertThat(storedRows(harness)).isOne();
            assertThat(onlyRow(replies(harness).get(1))).as("the stored row is what was shown").containsExactly(
                    TABLE.lookup(ahead));
            assertThat(published(harness)).as("nothing new to publish").hasSize(1);
        }
    }

    /** The log is read in order: a pending gradient before a committed one will never be committed. */
    @Test
    void aCommittedGradientDropsThePendingOnesBeforeItFromWhatLookupsSee() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(fresh(10, new RowGradient(ID, 1, G1))); // its transaction will abort
            harness.processElement2(fresh(11, new RowGradient(ID, 1, G2)));
            harness.processElement2(committed(11, new RowGradient(ID, 1, G2)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));
            harness.prepareSnapshotPreBarrier(1);

            float[] stored = TABLE.newRow(ID);
            TABLE.apply(stored, G2, 0);
            assertThat(onlyRow(replies(harness).get(0))).containsExactly(TABLE.lookup(stored));
            RowUpdate last = published(harness).get(published(harness).size() - 1);
            assertThat(last.values()).containsExactly(TABLE.lookup(stored));
            assertThat(last.examplesApplied()).isOne();
        }
    }

    @Test
    void aCommittedGradientTheFreshReadingMissedIsShownUnderThePendingOnes() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(fresh(12, new RowGradient(ID, 1, G2)));
            harness.processElement2(committed(11, new RowGradient(ID, 1, G1)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));

            float[] both = TABLE.newRow(ID);
            TABLE.apply(both, G1, 0);
            TABLE.apply(both, G2, 0);
            assertThat(onlyRow(replies(harness).get(0))).containsExactly(TABLE.lookup(both));

            harness.processElement2(committed(12, new RowGradient(ID, 1, G2)));
            harness.processElement1(lookup(2, NO_EXAMPLES, ID));
            assertThat(onlyRow(replies(harness).get(1))).containsExactly(TABLE.lookup(both));
        }
    }

    /** Written before the shard opened (a failed attempt's, or in the restored rows), or settled already. */
    @Test
    void freshGradientsWrittenBeforeTheShardOpenedOrAtACommittedOffsetAreNotShown() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(logged(false, System.currentTimeMillis() - 60_000, 5, new RowGradient(ID, 1, G1)));
            harness.processElement2(committed(20, new RowGradient(ID + 1, 1, G2)));
            harness.processElement2(fresh(15, new RowGradient(ID, 1, G1)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));

            assertThat(onlyRow(replies(harness).get(0))).containsExactly(TABLE.lookup(TABLE.newRow(ID)));
        }
    }

    @Test
    void aPendingGradientNothingSettlesIsDroppedAfterSomeCheckpointsAndTheStoredRowRepublished() throws Exception {
        try (var harness = harness(SPARSE)) {
            harness.processElement2(fresh(10, new RowGradient(ID, 1, G1)));
            for (long checkpoint = 1; checkpoint <= EmbeddingShard.SETTLE_CHECKPOINTS; checkpoint++) {
                harness.notifyOfCompletedCheckpoint(checkpoint);
            }
            harness.processElement1(lookup(1, NO_EXAMPLES, ID));
            harness.notifyOfCompletedCheckpoint(EmbeddingShard.SETTLE_CHECKPOINTS + 1);
            harness.processElement1(lookup(2, NO_EXAMPLES, ID));
            harness.prepareSnapshotPreBarrier(EmbeddingShard.SETTLE_CHECKPOINTS + 2);

            float[] ahead = TABLE.newRow(ID);
            TABLE.apply(ahead, G1, 0);
            assertThat(onlyRow(replies(harness).get(0))).as("still pending").containsExactly(TABLE.lookup(ahead));
            assertThat(onlyRow(replies(harness).get(1))).containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            assertThat(published(harness)).last().satisfies(update -> {
                assertThat(update.values()).containsExactly(TABLE.lookup(TABLE.newRow(ID)));
                assertThat(update.examplesApplied()).isZero();
            });
        }
    }

    @Test
    void noMoreRowsAreSpeculativeThanTheBoundAndTheRestFollowTheirCommits() throws Exception {
        try (var harness = harness(SPARSE)) {
            for (int i = 0; i < EmbeddingShard.MAX_SPECULATIVE_ROWS; i++) {
                harness.processElement2(fresh(i, new RowGradient(ID + 1 + i, 1, G1)));
            }
            harness.processElement2(fresh(EmbeddingShard.MAX_SPECULATIVE_ROWS, new RowGradient(ID, 1, G1)));
            harness.processElement1(lookup(1, NO_EXAMPLES, ID, ID + 1));

            float[] ahead = TABLE.newRow(ID + 1);
            TABLE.apply(ahead, G1, 0);
            RowLookupReply reply = replies(harness).get(0);
            assertThat(row(reply.lookups(), 0)).as("over the bound").containsExactly(TABLE.lookup(TABLE.newRow(ID)));
            assertThat(row(reply.lookups(), 1)).as("within it").containsExactly(TABLE.lookup(ahead));
        }
    }

    /** The exactly-once accounting rests on the stored rows: a checkpoint holds nothing read ahead of its commit. */
    @Test
    void aRestoredShardHoldsOnlyCommittedGradients() throws Exception {
        var snapshot = new Object() {
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState state;
        };
        try (var harness = harness(SPARSE)) {
            harness.processElement2(committed(10, new RowGradient(ID, 1, G1)));
            harness.processElement2(fresh(11, new RowGradient(ID, 1, G2)));
            snapshot.state = harness.snapshot(1, 1);
        }
        try (var restored = unopened(SPARSE)) {
            restored.initializeState(snapshot.state);
            restored.open();
            restored.processElement1(lookup(1, NO_EXAMPLES, ID));

            float[] stored = TABLE.newRow(ID);
            TABLE.apply(stored, G1, 0);
            assertThat(onlyRow(replies(restored).get(0))).containsExactly(TABLE.lookup(stored));
        }
    }

    private static SparseExample example() {
        return new SparseExample(new long[] {ID}, new float[] {1f}, 1);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<Long, RowLookup, RowGradients, RowLookupReply> harness(
            SparseTraining sparse) throws Exception {
        var harness = unopened(sparse);
        harness.open();
        return harness;
    }

    /** A shard on RocksDB, to be restored or opened. */
    private static KeyedTwoInputStreamOperatorTestHarness<Long, RowLookup, RowGradients, RowLookupReply> unopened(
            SparseTraining sparse) throws Exception {
        var harness = new KeyedTwoInputStreamOperatorTestHarness<>(new EmbeddingShard("flights", sparse, 1_000),
                (RowLookup lookup) -> lookup.ids()[0], (RowGradients g) -> g.gradients()[0].id(), Types.LONG);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        return harness;
    }

    private static long storedRows(KeyedTwoInputStreamOperatorTestHarness<Long, RowLookup, RowGradients, RowLookupReply> h) {
        try (var keys = h.getOperator().getKeyedStateBackend().getKeys("rows", VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    /** Committed gradients as the batcher sends them, created now. */
    private StreamRecord<RowGradients> gradients(RowGradient... gradients) {
        return gradientsAt(System.currentTimeMillis(), gradients);
    }

    /** Committed gradients as the batcher sends them, created at {@code createdMillis}, at the next offsets of partition 0. */
    private StreamRecord<RowGradients> gradientsAt(long createdMillis, RowGradient... gradients) {
        long[] created = new long[gradients.length];
        long[] offsets = new long[gradients.length];
        Arrays.fill(created, createdMillis);
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = nextOffset++;
        }
        return new StreamRecord<>(new RowGradients(0, true, gradients, created, new int[gradients.length], offsets));
    }

    /** One gradient read committed, at {@code offset} of partition 0. */
    private static StreamRecord<RowGradients> committed(long offset, RowGradient gradient) {
        return logged(true, System.currentTimeMillis(), offset, gradient);
    }

    /** One gradient read as soon as written, at {@code offset} of partition 0. */
    private static StreamRecord<RowGradients> fresh(long offset, RowGradient gradient) {
        return logged(false, System.currentTimeMillis(), offset, gradient);
    }

    private static StreamRecord<RowGradients> logged(boolean committed, long created, long offset, RowGradient gradient) {
        return new StreamRecord<>(new RowGradients(0, committed, new RowGradient[] {gradient}, new long[] {created},
                new int[] {0}, new long[] {offset}));
    }

    private static StreamRecord<RowLookup> lookup(long batchId, SparseExample[] examples, long... ids) {
        return new StreamRecord<>(new RowLookup(batchId, 0, 0, 1, ids, examples));
    }

    private static StreamRecord<RowLookup> lookup(long batchId, SparseExample example, long... ids) {
        return lookup(batchId, new SparseExample[] {example}, ids);
    }

    private static float[] onlyRow(RowLookupReply reply) {
        assertThat(reply.ids()).hasSize(1);
        return reply.lookups();
    }

    private static List<RowLookupReply> replies(KeyedTwoInputStreamOperatorTestHarness<Long, RowLookup, RowGradients, RowLookupReply> h) {
        return h.extractOutputValues();
    }

    private static List<RowUpdate> published(KeyedTwoInputStreamOperatorTestHarness<Long, RowLookup, RowGradients, RowLookupReply> h) {
        return h.getSideOutput(EmbeddingShard.ROW_UPDATES).stream().map(StreamRecord::getValue).toList();
    }
}
