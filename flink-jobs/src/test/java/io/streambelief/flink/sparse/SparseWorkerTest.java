package io.streambelief.flink.sparse;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.RowLookupReply;
import io.streambelief.flink.worker.ProgressiveValidation;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.GradientSliceCodec;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepEngine;
import io.streambelief.model.sparse.WideDeepSpec;

/** The hybrid model's worker: its dense part behaves as a dense worker's, its rows go out per distinct id. */
class SparseWorkerTest {
    private static final SparseTraining FLIGHTS =
            SparseTraining.of(FeatureSchema.load("flights"), WideDeepSpec.parse("widedeep:dim=8,mlp=16"), 2, 1);
    /** Mini-batches of 2; the MLP's 1,201 parameters in shards of 500, 500 and 201. */
    private static final TrainingConfig CONFIG = TrainingConfig.builder("unused:9092").modelId("flights")
            .sparse(FLIGHTS).batchSize(2).shardSize(500).metricsInterval(Duration.ofSeconds(1)).build();
    private static final ParameterLayout LAYOUT = CONFIG.layout();
    private static final int SLOTS = FLIGHTS.schema().slots();
    private static final int WIDTH = FLIGHTS.table().lookupWidth();
    private static final int NUMERICS = FLIGHTS.schema().numerics();

    private final Random random = new Random(5);
    private final Map<Long, float[]> rowsById = new HashMap<>();

    @Test
    void aFullBatchPushesItsDenseGradientPerShardAndOneRowGradientPerDistinctIdEachWithItsExamples()
            throws Exception {
        List<Looked> batch = List.of(example(100), example(100));
        ExampleDigest first = ExampleDigest.of(batch.get(0).example());
        ExampleDigest second = ExampleDigest.of(batch.get(1).example());
        try (var harness = harness()) {
            harness.open();
            harness.setProcessingTime(0);
            feed(harness, batch);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).extracting(GradientSlice::shardId).containsExactly(0, 1, 2);
            assertThat(slices).allSatisfy(s -> {
                assertThat(s.push()).isEqualTo(1);
                assertThat(s.baseVersion()).isZero();
                assertThat(s.examples()).isEqualTo(2);
                assertThat(s.digest()).isEqualTo(first.plus(second));
            });
            assertThat(concat(slices)).containsExactly(step(CONFIG.spec().initialParameters(), batch).denseGradient());

            List<RowGradient> rows = new ArrayList<>();
            harness.getSideOutput(SparseWorker.ROW_GRADIENTS).forEach(r -> rows.add(r.getValue()));
            assertThat(rows).hasSize(2 * SLOTS - 1);
            assertThat(rows).filteredOn(row -> row.id() == 100).singleElement().satisfies(row -> assertThat(
                    row.examples()).as("both examples touched it").isEqualTo(first.plus(second)));
            assertThat(rows).filteredOn(row -> row.id() == batch.get(1).example().ids()[1]).singleElement()
                    .satisfies(row -> assertThat(row.examples()).as("the second alone").isEqualTo(second));
        }
    }

    @Test
    void gradientsAreComputedOnReceivedParametersAndTheReportCountsTheTraffic() throws Exception {
        float[] received = CONFIG.spec().initialParameters();
        float[] shard0 = new float[LAYOUT.length(0)];
        Arrays.fill(shard0, 0.05f);
        LAYOUT.place(received, 0, shard0);
        ParamUpdate update = new ParamUpdate("flights", 0, 5, 80, 0, shard0, new float[0][], new long[0], new float[0]);
        List<Looked> batch = List.of(example(1), example(2));
        try (var harness = harness()) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement2(update, 0);
            harness.processElement2(new ParamUpdate("other", 1, 5, 80, 0, new float[500], new float[0][],
                    new long[0], new float[0]), 0);
            feed(harness, batch);
            harness.setProcessingTime(1_100);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).extracting(GradientSlice::baseVersion).containsExactly(5L, 0L, 0L);
            assertThat(concat(slices)).containsExactly(step(received, batch).denseGradient());
            List<TrainingMetrics> reports = new ArrayList<>();
            harness.getSideOutput(ProgressiveValidation.METRICS).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).singleElement().satisfies(m -> {
                assertThat(m.examples()).isEqualTo(2);
                assertThat(m.bytesPushed()).isEqualTo(slices.stream().mapToLong(GradientSliceCodec::encodedSize).sum());
                assertThat(m.bytesReceived()).as("another model's update is not ours")
                        .isEqualTo(ParamUpdateCodec.encodedSize(update));
                assertThat(m.residualNorm()).as("whole gradients").isNull();
            });
        }
    }

    /** Parameters can diverge; neither part of a batch that did must reach the model. */
    @Test
    void aBatchWhoseGradientIsNotFiniteSendsNeitherItsDenseNorItsRowGradients() throws Exception {
        Looked diverged = example(7);
        Arrays.fill(diverged.rows()[1], Float.NaN);
        try (var harness = harness()) {
            harness.open();
            feed(harness, List.of(diverged, example(8)));

            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(SparseWorker.ROW_GRADIENTS)).isNullOrEmpty();
        }
    }

    private static TwoInputStreamOperatorTestHarness<RowLookupReply, ParamUpdate, GradientSlice> harness() throws Exception {
        return new TwoInputStreamOperatorTestHarness<>(new SparseWorker(CONFIG));
    }

    /**
     * One batch's replies as two embedding shards would send them: the ids split between them,
     * the part without the examples first.
     */
    private static void feed(TwoInputStreamOperatorTestHarness<RowLookupReply, ParamUpdate, GradientSlice> harness,
            List<Looked> batch) throws Exception {
        Map<Long, float[]> rows = new LinkedHashMap<>();
        for (Looked looked : batch) {
            for (int s = 0; s < SLOTS; s++) {
                rows.putIfAbsent(looked.example().ids()[s], looked.rows()[s]);
            }
        }
        List<Long> ids = new ArrayList<>(rows.keySet());
        List<Long> first = ids.subList(0, ids.size() / 2);
        List<Long> second = ids.subList(ids.size() / 2, ids.size());
        SparseExample[] examples = batch.stream().map(Looked::example).toArray(SparseExample[]::new);
        long batchId = batch.get(0).example().ids()[0] * 31 + batch.size();
        harness.processElement1(reply(batchId, second, rows, new SparseExample[0]), 0);
        harness.processElement1(reply(batchId, first, rows, examples), 0);
    }

    private static RowLookupReply reply(long batchId, List<Long> ids, Map<Long, float[]> rows, SparseExample[] examples) {
        float[] lookups = new float[ids.size() * WIDTH];
        for (int i = 0; i < ids.size(); i++) {
            System.arraycopy(rows.get(ids.get(i)), 0, lookups, i * WIDTH, WIDTH);
        }
        return new RowLookupReply(batchId, 0, 2, ids.stream().mapToLong(Long::longValue).toArray(), lookups, examples);
    }

    /** An example and the row looked up for each of its slots. */
    private record Looked(SparseExample example, float[][] rows) {}

    /** An example whose slot 0 is {@code firstId}, other ids its own; an id seen before has the same row. */
    private Looked example(long firstId) {
        long[] ids = new long[SLOTS];
        for (int s = 0; s < SLOTS; s++) {
            ids[s] = s == 0 ? firstId : random.nextLong();
        }
        float[] numerics = new float[NUMERICS];
        for (int i = 0; i < numerics.length; i++) {
            numerics[i] = random.nextFloat();
        }
        float[][] rows = new float[SLOTS][];
        for (int s = 0; s < SLOTS; s++) {
            rows[s] = rowsById.computeIfAbsent(ids[s], id -> {
                float[] lookup = new float[WIDTH];
                for (int k = 0; k < WIDTH; k++) {
                    lookup[k] = random.nextFloat() - 0.5f;
                }
                return lookup;
            });
        }
        return new Looked(new SparseExample(ids, numerics, random.nextInt(2)), rows);
    }

    /** The wide &amp; deep engine's step on {@code parameters} for {@code batch}. */
    private static WideDeepEngine.Step step(float[] parameters, List<Looked> batch) {
        float[] lookups = new float[batch.size() * SLOTS * WIDTH];
        float[] numerics = new float[batch.size() * NUMERICS];
        int[] labels = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            SparseExample example = batch.get(i).example();
            labels[i] = example.label();
            System.arraycopy(example.numerics(), 0, numerics, i * NUMERICS, NUMERICS);
            for (int s = 0; s < SLOTS; s++) {
                System.arraycopy(batch.get(i).rows()[s], 0, lookups, (i * SLOTS + s) * WIDTH, WIDTH);
            }
        }
        try (WideDeepEngine engine = new WideDeepEngine(CONFIG.spec(), SLOTS, FLIGHTS.table().dim(), NUMERICS)) {
            engine.setParameters(parameters);
            return engine.step(lookups, numerics, labels);
        }
    }

    private static float[] concat(List<GradientSlice> slices) {
        float[] values = new float[LAYOUT.numParams()];
        for (GradientSlice slice : slices) {
            LAYOUT.place(values, slice.shardId(), slice.values());
        }
        return values;
    }
}
