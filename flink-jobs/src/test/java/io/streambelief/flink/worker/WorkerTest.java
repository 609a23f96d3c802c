package io.streambelief.flink.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.compression.ErrorFeedback;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.trainer.Trainer;

class WorkerTest {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:6-4-3", 1);
    /** 43 parameters in shards of 20, 20 and 3; mini-batches of 4; gradients pushed whole, the exact reference. */
    private static final TrainingConfig CONFIG = TrainingConfig.builder("unused:9092")
            .modelId("tiny").spec(SPEC).shardSize(20).batchSize(4).compression(GradientCompression.NONE).build();
    /** Two of each shard's entries per push (one of the last shard's), rounded to bfloat16. */
    private static final TrainingConfig COMPRESSED = CONFIG.toBuilder()
            .compression(new GradientCompression(0.1, true)).build();
    private static final ParameterLayout LAYOUT = CONFIG.layout();

    private final Random random = new Random(3);

    @Test
    void aFullBatchPushesOneSlicePerShardWithTheGradientOfTheInitialParameters() throws Exception {
        List<Example> batch = examples(4);
        try (var harness = harness(CONFIG)) {
            harness.open();
            feed(harness, batch);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).extracting(GradientSlice::shardId).containsExactly(0, 1, 2);
            assertThat(slices).allSatisfy(s -> {
                assertThat(s.baseVersion()).isZero();
                assertThat(s.examples()).isEqualTo(4);
            });
            assertThat(concat(slices)).containsExactly(gradient(SPEC.initialParameters(), batch));
        }
    }

    @Test
    void gradientsAreComputedOnReceivedParametersAndNameTheirVersions() throws Exception {
        float[] received = SPEC.initialParameters();
        float[] shard0 = new float[LAYOUT.length(0)];
        java.util.Arrays.fill(shard0, 0.25f);
        LAYOUT.place(received, 0, shard0);
        List<Example> batch = examples(4);
        try (var harness = harness(CONFIG)) {
            harness.open();
            harness.processElement2(full("tiny", 0, 5, 80, shard0), 0);
            feed(harness, batch);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).extracting(GradientSlice::baseVersion).containsExactly(5L, 0L, 0L);
            assertThat(concat(slices)).containsExactly(gradient(received, batch));
        }
    }

    @Test
    void updatesOfAnotherModelOrShapeAreIgnored() throws Exception {
        List<Example> batch = examples(4);
        try (var harness = harness(CONFIG)) {
            harness.open();
            harness.processElement2(full("other", 0, 5, 80, new float[20]), 0);
            harness.processElement2(full("tiny", 2, 5, 80, new float[7]), 0);
            harness.processElement2(full("tiny", 9, 5, 80, new float[20]), 0);
            feed(harness, batch);

            assertThat(concat(harness.extractOutputValues())).containsExactly(gradient(SPEC.initialParameters(), batch));
        }
    }

    @Test
    void withNPushTheGradientsOfSeveralBatchesArePushedTogether() throws Exception {
        List<Example> first = examples(4);
        List<Example> second = examples(4);
        try (var harness = harness(CONFIG.toBuilder().nPush(2).build())) {
            harness.open();
            feed(harness, first);
            assertThat(harness.extractOutputValues()).isEmpty();
            feed(harness, second);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).hasSize(3).allSatisfy(s -> assertThat(s.examples()).isEqualTo(8));
            float[] a = gradient(SPEC.initialParameters(), first);
            float[] b = gradient(SPEC.initialParameters(), second);
            float[] sum = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                sum[i] = a[i] + b[i];
            }
            assertThat(concat(slices)).usingComparatorWithPrecision(1e-6f).containsExactly(sum);
        }
    }

    @Test
    void withNFetchReceivedParametersAreTakenInAtMostEveryNBatches() throws Exception {
        float[] shard0 = new float[LAYOUT.length(0)];
        try (var harness = harness(CONFIG.toBuilder().nFetch(2).build())) {
            harness.open();
            harness.processElement2(full("tiny", 0, 1, 4, shard0), 0);
            feed(harness, examples(4));
            harness.processElement2(full("tiny", 0, 2, 8, shard0), 0);
            feed(harness, examples(4));
            feed(harness, examples(4));

            // Batch 1 takes in version 1 and pushes (its replica is at 2); batch 2 may not take in
            // version 2 yet and computes on 1 + its own push; batch 3 takes in version 2 and
            // re-applies its two pushes, which that version does not acknowledge.
            assertThat(harness.extractOutputValues()).filteredOn(s -> s.shardId() == 0)
                    .extracting(GradientSlice::baseVersion).containsExactly(1L, 2L, 4L);
        }
    }

    @Test
    void whatWasAccumulatedForTheNextPushIsPushedBeforeTheCheckpointBarrier() throws Exception {
        List<Example> batch = examples(4);
        try (var harness = harness(CONFIG.toBuilder().nPush(3).build())) {
            harness.open();
            feed(harness, batch);
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.prepareSnapshotPreBarrier(1);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).hasSize(3).allSatisfy(s -> assertThat(s.examples()).isEqualTo(4));
            assertThat(concat(slices)).containsExactly(gradient(SPEC.initialParameters(), batch));
        }
    }

    @Test
    void aPartialBatchIsKeptInTheCheckpointAndCompletedAfterARestore() throws Exception {
        List<Example> batch = examples(4);
        OperatorSubtaskState checkpoint;
        try (var harness = harness(CONFIG)) {
            harness.open();
            feed(harness, batch.subList(0, 3));
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1);
            assertThat(harness.extractOutputValues()).isEmpty();
        }

        try (var restored = harness(CONFIG)) {
            restored.initializeState(checkpoint);
            restored.open();
            feed(restored, batch.subList(3, 4));

            List<GradientSlice> slices = restored.extractOutputValues();
            assertThat(slices).hasSize(3).allSatisfy(s -> assertThat(s.examples()).isEqualTo(4));
            assertThat(concat(slices)).containsExactly(gradient(SPEC.initialParameters(), batch));
        }
    }

    @Test
    void aPartialBatchIsTrainedOnceTheStreamGoesQuiet() throws Exception {
        try (var harness = harness(CONFIG)) {
            harness.open();
            harness.setProcessingTime(0);
            feed(harness, examples(2));
            harness.setProcessingTime(CONFIG.idleFlush().toMillis() / 2);
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.setProcessingTime(CONFIG.idleFlush().toMillis() + 200);

            assertThat(harness.extractOutputValues()).hasSize(3).allSatisfy(s -> assertThat(s.examples()).isEqualTo(2));
        }
    }

    @Test
    void everyBatchIsEvaluatedBeforeTrainingAndReportedPerInterval() throws Exception {
        List<Example> batch = examples(4);
        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(SPEC);
                var harness = harness(CONFIG.toBuilder().metricsInterval(Duration.ofSeconds(1)).build())) {
            GradientStep expected = engine.step(toBatch(batch));
            harness.open();
            harness.setProcessingTime(0);
            feed(harness, batch);
            harness.setProcessingTime(1_100);

            List<TrainingMetrics> reports = new ArrayList<>();
            harness.getSideOutput(ProgressiveValidation.METRICS).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).singleElement().satisfies(m -> {
                assertThat(m.model()).isEqualTo("tiny");
                assertThat(m.examples()).isEqualTo(4);
                assertThat(m.windowExamples()).isEqualTo(4);
                assertThat(m.loss()).isEqualTo(expected.loss());
                assertThat(m.accuracy()).isEqualTo(expected.correct() / 4.0);
            });
        }
    }

    @Test
    void aRestoredWorkerContinuesFromItsCheckpointedReplica() throws Exception {
        float[] shard1 = new float[LAYOUT.length(1)];
        java.util.Arrays.fill(shard1, -0.5f);
        OperatorSubtaskState checkpoint;
        try (var harness = harness(CONFIG)) {
            harness.open();
            harness.processElement2(full("tiny", 1, 9, 36, shard1), 0);
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1);
        }
        float[] received = SPEC.initialParameters();
        LAYOUT.place(received, 1, shard1);
        List<Example> batch = examples(4);

        try (var restored = harness(CONFIG)) {
            restored.initializeState(checkpoint);
            restored.open();
            feed(restored, batch);

            List<GradientSlice> slices = restored.extractOutputValues();
            assertThat(slices).extracting(GradientSlice::baseVersion).containsExactly(0L, 9L, 0L);
            assertThat(concat(slices)).containsExactly(gradient(received, batch));
        }
    }

    @Test
    void aGradientLongerThanTheClippingNormIsScaledDownToItOverAllShards() throws Exception {
        List<Example> batch = examples(4);
        float[] unclipped = gradient(SPEC.initialParameters(), batch);
        double norm = norm(unclipped);
        try (var harness = harness(CONFIG.toBuilder().clipNorm(norm / 4).build())) {
            harness.open();
            feed(harness, batch);

            float[] pushed = concat(harness.extractOutputValues());
            assertThat(norm(pushed)).isCloseTo(norm / 4, org.assertj.core.data.Offset.offset(1e-6 * norm));
            for (int i = 0; i < pushed.length; i++) {
                assertThat(pushed[i]).isCloseTo(unclipped[i] / 4, org.assertj.core.data.Offset.offset(1e-6f));
            }
        }
        assertThat(Trainer.clippingScale(unclipped, 2 * norm)).as("shorter gradients are left alone").isEqualTo(1f);
        assertThat(Trainer.clippingScale(unclipped, 0)).as("0: off").isEqualTo(1f);
    }

    /** Parameters can diverge; a gradient with NaN or infinity in it must never reach a shard. */
    @Test
    void aBatchWhoseGradientIsNotFiniteIsDroppedNotPushed() throws Exception {
        List<Example> batch = examples(4);
        float[] huge = new float[SPEC.numInputs()];
        java.util.Arrays.fill(huge, Float.MAX_VALUE);
        batch.set(2, new Example(huge, 1));
        try (var harness = harness(CONFIG)) {
            harness.open();
            feed(harness, batch);

            assertThat(harness.extractOutputValues()).isEmpty();
            feed(harness, examples(4));
            assertThat(harness.extractOutputValues()).as("training goes on").hasSize(3);
        }
    }

    @Test
    void aCompressedPushSendsTheLargestEntriesOfEachShardAndKeepsTheRest() throws Exception {
        List<Example> batch = examples(4);
        float[] gradient = gradient(SPEC.initialParameters(), batch);
        try (var harness = harness(COMPRESSED)) {
            harness.open();
            feed(harness, batch);

            List<GradientSlice> slices = harness.extractOutputValues();
            assertThat(slices).extracting(s -> nonZeros(s.values())).containsExactly(2, 2, 1);
            float[] pushed = concat(slices);
            for (int i = 0; i < pushed.length; i++) {
                if (pushed[i] != 0f) {
                    assertThat(pushed[i]).isEqualTo(ErrorFeedback.toBfloat16(gradient[i]));
                }
            }
        }
    }

    /**
     * What compression held back is checkpointed with the worker: a restored worker pushes exactly
     * what it would have pushed without the failure (the servers' answer, the same in both runs,
     * acknowledges the push before the checkpoint, so both compute on the same parameters).
     */
    @Test
    void theCompressionResidualSurvivesARestore() throws Exception {
        List<Example> before = examples(4);
        List<Example> after = examples(8);
        float[] shard = new float[LAYOUT.length(0)];
        java.util.Arrays.fill(shard, 0.125f);
        OperatorSubtaskState checkpoint;
        List<GradientSlice> uninterrupted;
        try (var harness = harness(COMPRESSED)) {
            harness.open();
            feed(harness, before);
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1);
            harness.getOutput().clear();
            acknowledgeFirstPush(harness, shard);
            feed(harness, after);
            uninterrupted = List.copyOf(harness.extractOutputValues());
        }

        try (var restored = harness(COMPRESSED)) {
            restored.initializeState(checkpoint);
            restored.open();
            acknowledgeFirstPush(restored, shard);
            feed(restored, after);

            assertThat(uninterrupted).hasSize(6);
            assertThat(restored.extractOutputValues()).containsExactlyElementsOf(uninterrupted);
        }
    }

    /** The servers' state after worker 0's first push, in every shard. */
    private static void acknowledgeFirstPush(TwoInputStreamOperatorTestHarness<Example, ParamDelta, GradientSlice> harness,
            float[] values) throws Exception {
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            harness.processElement2(new ParamDelta("tiny", shard, 1, -1, 4, 0, LAYOUT.length(shard), null,
                    java.util.Arrays.copyOf(values, LAYOUT.length(shard)), new float[0][], new long[] {1}), 0);
        }
    }

    /** A shard's full delta, as the servers send it first. */
    private static ParamDelta full(String model, int shard, long version, long examples, float[] values) {
        return new ParamDelta(model, shard, version, -1, examples, 0, values.length, null, values, new float[0][],
                new long[0]);
    }

    private static int nonZeros(float[] values) {
        int n = 0;
        for (float v : values) {
            n += v != 0f ? 1 : 0;
        }
        return n;
    }

    private static double norm(float[] values) {
        double squares = 0;
        for (float v : values) {
            squares += (double) v * v;
        }
        return Math.sqrt(squares);
    }

    private static TwoInputStreamOperatorTestHarness<Example, ParamDelta, GradientSlice> harness(TrainingConfig config)
            throws Exception {
        return new TwoInputStreamOperatorTestHarness<>(new Worker(config));
    }

    private static void feed(TwoInputStreamOperatorTestHarness<Example, ParamDelta, GradientSlice> harness,
            List<Example> examples) throws Exception {
        for (Example example : examples) {
            harness.processElement1(example, 0);
        }
    }

    private List<Example> examples(int n) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] features = new float[SPEC.numInputs()];
            for (int j = 0; j < features.length; j++) {
                features[j] = random.nextFloat();
            }
            examples.add(new Example(features, random.nextInt(SPEC.numLabels())));
        }
        return examples;
    }

    private static MiniBatch toBatch(List<Example> examples) {
        MiniBatch.Builder builder = MiniBatch.builder(examples.size(), SPEC.numInputs());
        examples.forEach(builder::add);
        return builder.build();
    }

    private static float[] gradient(float[] parameters, List<Example> examples) {
        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            engine.setParameters(parameters);
            return engine.step(toBatch(examples)).gradient();
        }
    }

    private static float[] concat(List<GradientSlice> slices) {
        float[] full = new float[LAYOUT.numParams()];
        slices.forEach(s -> LAYOUT.place(full, s.shardId(), s.values()));
        return full;
    }
}
