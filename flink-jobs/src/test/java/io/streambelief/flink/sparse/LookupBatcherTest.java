package io.streambelief.flink.sparse;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.ParsedExample;
import io.streambelief.flink.io.RowLookup;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepSpec;

/** Mini-batches formed before the lookup: one lookup per shard and batch, nothing lost or doubled. */
class LookupBatcherTest {
    private static final SparseTraining FLIGHTS =
            SparseTraining.of(FeatureSchema.load("flights"), WideDeepSpec.parse("widedeep:dim=4,mlp=8"), 3, 1);
    private static final TrainingConfig CONFIG = TrainingConfig.builder("unused:9092").modelId("flights")
            .sparse(FLIGHTS).batchSize(4).idleFlush(Duration.ofMillis(500)).build();

    private final Random random = new Random(11);

    @Test
    void aBatchIsOneLookupPerShardItTouchesEachIdOnceOnTheShardThatHoldsItTheFirstCarryingTheExamples() {
        List<ParsedExample> batch = List.of(parsed(1, 100, 101), parsed(2, 100, 102), parsed(3, 103, 101));
        for (int i = 0; i < 40; i++) {
            batch = new ArrayList<>(batch);
            batch.add(parsed(10 + i, random.nextLong(), random.nextLong()));
        }

        List<RowLookup> lookups = LookupBatcher.lookups(batch, FLIGHTS, 1);

        Set<Long> expectedIds = new HashSet<>();
        batch.forEach(p -> Arrays.stream(p.example().ids()).forEach(expectedIds::add));
        List<Long> looked = new ArrayList<>();
        for (RowLookup lookup : lookups) {
            assertThat(Arrays.stream(lookup.ids()).map(id -> FLIGHTS.shardOf(id))).containsOnly((long) lookup.shard());
            Arrays.stream(lookup.ids()).forEach(looked::add);
        }
        assertThat(looked).as("each distinct id once").doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expectedIds);
        assertThat(lookups).extracting(RowLookup::shard).as("one per shard").containsExactly(0, 1, 2);
        assertThat(lookups).allSatisfy(lookup -> {
            assertThat(lookup.parts()).isEqualTo(3);
            assertThat(lookup.batchId()).as("the first example's id").isEqualTo(1);
            assertThat(lookup.worker()).isEqualTo(1);
        });
        assertThat(lookups.get(0).examples()).containsExactlyElementsOf(batch.stream().map(ParsedExample::example).toList());
        assertThat(lookups.subList(1, 3)).allSatisfy(lookup -> assertThat(lookup.examples()).isEmpty());
    }

    @Test
    void fullBatchesGoAtOnceAPartialOneAfterTheIdleIntervalAndAtTheEnd() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.setProcessingTime(0);
            for (int i = 0; i < 6; i++) {
                harness.processElement(parsed(i, 7 * i, 7 * i + 1), 0);
            }
            assertThat(batchIds(harness)).as("the full batch only").containsOnly(0L);

            harness.setProcessingTime(400);
            assertThat(batchIds(harness)).as("not idle long enough").containsOnly(0L);
            harness.setProcessingTime(600);
            assertThat(batchIds(harness)).containsOnly(0L, 4L);

            harness.processElement(parsed(6, 42, 43), 700);
            harness.endInput();
            assertThat(batchIds(harness)).containsOnly(0L, 4L, 6L);
            assertThat(examples(harness)).as("every example in exactly one batch")
                    .extracting(e -> e.ids()[0]).containsExactly(0L, 7L, 14L, 21L, 28L, 35L, 42L);
        }
    }

    /** Fixed-delay ticks run late, behind the clock: the idle cut must not wait for one that was due later. */
    @Test
    void theIdleCutReadsTheClockNotTheTimeItsTickWasDue() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.setProcessingTime(50);
            harness.processElement(parsed(1, 10, 11), 50);
            // Ticks due at 100..500 run now, at 560: 510 ms after the example, though the last was due 450 after it.
            harness.setProcessingTime(560);
            assertThat(batchIds(harness)).containsOnly(1L);
        }
    }

    @Test
    void aPartialBatchIsPartOfTheCheckpoint() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(parsed(1, 10, 11), 0);
            harness.processElement(parsed(2, 20, 21), 0);
            snapshot = harness.snapshot(1, 0);
        }
        try (var restored = harness()) {
            restored.initializeState(snapshot);
            restored.open();
            restored.processElement(parsed(3, 30, 31), 0);
            restored.processElement(parsed(4, 40, 41), 0);

            assertThat(examples(restored)).extracting(e -> e.ids()[0]).containsExactly(10L, 20L, 30L, 40L);
        }
    }

    private static OneInputStreamOperatorTestHarness<ParsedExample, RowLookup> harness() throws Exception {
        return new OneInputStreamOperatorTestHarness<>(new LookupBatcher(CONFIG));
    }

    private static List<Long> batchIds(OneInputStreamOperatorTestHarness<ParsedExample, RowLookup> harness) {
        return harness.extractOutputValues().stream().map(RowLookup::batchId).toList();
    }

    private static List<SparseExample> examples(OneInputStreamOperatorTestHarness<ParsedExample, RowLookup> harness) {
        return harness.extractOutputValues().stream().flatMap(lookup -> Arrays.stream(lookup.examples())).toList();
    }

    /** An example whose first two slots are {@code a} and {@code b}, the rest fixed. */
    private static ParsedExample parsed(long exampleId, long a, long b) {
        long[] ids = new long[FLIGHTS.schema().slots()];
        for (int s = 0; s < ids.length; s++) {
            ids[s] = s == 0 ? a : s == 1 ? b : 1_000 + s;
        }
        return new ParsedExample(exampleId, new SparseExample(ids, new float[FLIGHTS.schema().numerics()], 0));
    }
}
