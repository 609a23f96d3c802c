package io.streambelief.flink.sparse;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.RowReply;
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

    @Test
    void aFullBatchPushesItsDenseGradientPerShardAndOneRowGradientPerDistinctIdEachWithItsExamples()
            throws Exception {
        List<RowReply[]> batch = List.of(example(100), example(100));
        ExampleDigest first = ExampleDigest.of(batch.get(0)[0].example());
        ExampleDigest second = ExampleDigest.of(batch.get(1)[0].example());
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
            assertThat(rows).filteredOn(row -> row.id() == batch.get(1)[1].id()).singleElement()
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
        List<RowReply[]> batch = List.of(example(1), example(2));
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
        RowReply[] diverged = example(7);
        Arrays.fill(diverged[1].lookup(), Float.NaN);
        try (var harness = harness()) {
            harness.open();
            feed(harness, List.of(diverged, example(8)));

            assertThat(harness.extractOutputValues()).isEmpty();
            assertThat(harness.getSideOutput(SparseWorker.ROW_GRADIENTS)).isNullOrEmpty();
        }
    }

    private static TwoInputStreamOperatorTestHarness<RowReply, ParamUpdate, GradientSlice> harness() throws Exception {
        return new TwoInputStreamOperatorTestHarness<>(new SparseWorker(CONFIG));
    }

    private static void feed(TwoInputStreamOperatorTestHarness<RowReply, ParamUpdate, GradientSlice> harness,
            List<RowReply[]> examples) throws Exception {
        for (RowReply[] example : examples) {
            for (RowReply reply : example) {
                harness.processElement1(reply, 0);
            }
        }
    }

    /** An example's replies, one per slot, slot 0's with {@code firstId} and the example; other ids are its own. */
    private RowReply[] example(long firstId) {
        long exampleId = random.nextLong();
        long[] ids = new long[SLOTS];
        for (int s = 0; s < SLOTS; s++) {
            ids[s] = s == 0 ? firstId : random.nextLong();
        }
        float[] numerics = new float[NUMERICS];
        for (int i = 0; i < numerics.length; i++) {
            numerics[i] = random.nextFloat();
        }
        SparseExample example = new SparseExample(ids, numerics, random.nextInt(2));
        RowReply[] replies = new RowReply[SLOTS];
        for (int s = 0; s < SLOTS; s++) {
            float[] lookup = new float[WIDTH];
            for (int k = 0; k < WIDTH; k++) {
                lookup[k] = random.nextFloat() - 0.5f;
            }
            replies[s] = new RowReply(ids[s], exampleId, 0, s, lookup, s == 0 ? example : null);
        }
        return replies;
    }

    /** The wide &amp; deep engine's step on {@code parameters} for {@code batch}. */
    private static WideDeepEngine.Step step(float[] parameters, List<RowReply[]> batch) {
        float[] lookups = new float[batch.size() * SLOTS * WIDTH];
        float[] numerics = new float[batch.size() * NUMERICS];
        int[] labels = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            SparseExample example = batch.get(i)[0].example();
            labels[i] = example.label();
            System.arraycopy(example.numerics(), 0, numerics, i * NUMERICS, NUMERICS);
            for (int s = 0; s < SLOTS; s++) {
                System.arraycopy(batch.get(i)[s].lookup(), 0, lookups, (i * SLOTS + s) * WIDTH, WIDTH);
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
