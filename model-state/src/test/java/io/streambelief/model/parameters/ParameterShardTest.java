package io.streambelief.model.parameters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.TestBatches;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ShardState;

class ParameterShardTest {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:30-16-8-4", 5);
    /** Small shards, so the model is cut across several of them, with a short last one. */
    private static final ParameterLayout LAYOUT = ParameterLayout.of(SPEC, 100);

    @Test
    void oneShardedSgdStepEqualsDl4jsOwnSgdUpdaterOnTheSameBatch() {
        assertShardedTrainingEqualsDl4j(Optimizer.sgd(0.1), 1);
    }

    @Test
    void manyShardedAdagradStepsEqualDl4jsOwnAdaGradUpdater() {
        assertShardedTrainingEqualsDl4j(Optimizer.adagrad(0.05), 10);
    }

    /**
     * The parameter server's path (engine gradient, cut into shards, each shard applies the
     * optimizer) against DL4J's own fit with the equivalent updater, batch by batch.
     */
    private static void assertShardedTrainingEqualsDl4j(Optimizer optimizer, int steps) {
        float[] initial = SPEC.initialParameters();
        ParameterShard[] shards = new ParameterShard[LAYOUT.shardCount()];
        for (int s = 0; s < shards.length; s++) {
            shards[s] = ParameterShard.initial(s, LAYOUT.slice(initial, s), optimizer);
        }
        MultiLayerNetwork dl4j = new MultiLayerNetwork(SPEC.configuration(optimizer.toDl4jUpdater()));
        dl4j.init();
        assertThat(dl4j.params().toFloatVector()).containsExactly(initial);

        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            for (int step = 0; step < steps; step++) {
                MiniBatch batch = TestBatches.random(SPEC, 16, step);
                engine.setParameters(assemble(shards));
                GradientStep result = engine.step(batch);
                for (ParameterShard shard : shards) {
                    shard.apply(new GradientSlice(shard.shardId(), shard.version(), batch.size(),
                            LAYOUT.slice(result.gradient(), shard.shardId())));
                }
                dl4j.fit(TestBatches.toDataSet(SPEC, batch));

                float[] expected = dl4j.params().toFloatVector();
                float[] actual = assemble(shards);
                for (int i = 0; i < expected.length; i++) {
                    assertThat(actual[i]).as("parameter %d after step %d", i, step + 1)
                            .isCloseTo(expected[i], within(1e-5f));
                }
            }
        }
        for (ParameterShard shard : shards) {
            assertThat(shard.version()).isEqualTo(steps);
            assertThat(shard.examplesApplied()).isEqualTo(16L * steps);
        }
    }

    /**
     * The parameter-server half of synchronous training: the example-weighted mean of W workers'
     * gradients, applied as one step, is DL4J's step on their union — batches of 10 and 6 here,
     * so the weighting matters — for 30 steps.
     */
    @Test
    void oneStepOfSeveralWorkersGradientsEqualsDl4jOnTheirUnion() {
        Optimizer sgd = Optimizer.sgd(0.2);
        float[] initial = SPEC.initialParameters();
        ParameterShard[] shards = new ParameterShard[LAYOUT.shardCount()];
        for (int s = 0; s < shards.length; s++) {
            shards[s] = ParameterShard.initial(s, LAYOUT.slice(initial, s), sgd);
        }
        MultiLayerNetwork dl4j = new MultiLayerNetwork(SPEC.configuration(sgd.toDl4jUpdater()));
        dl4j.init();

        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            for (int step = 0; step < 30; step++) {
                MiniBatch union = TestBatches.random(SPEC, 16, 100 + step);
                MiniBatch[] parts = {TestBatches.slice(SPEC, union, 0, 10), TestBatches.slice(SPEC, union, 10, 16)};
                engine.setParameters(assemble(shards));
                List<List<GradientSlice>> perShard = new ArrayList<>();
                for (ParameterShard shard : shards) {
                    perShard.add(new ArrayList<>());
                }
                for (int worker = 0; worker < parts.length; worker++) {
                    float[] gradient = engine.step(parts[worker]).gradient();
                    for (ParameterShard shard : shards) {
                        perShard.get(shard.shardId()).add(new GradientSlice(shard.shardId(), worker, step + 1,
                                shard.version(), parts[worker].size(), LAYOUT.slice(gradient, shard.shardId())));
                    }
                }
                for (ParameterShard shard : shards) {
                    assertThat(shard.applyStep(perShard.get(shard.shardId()))).isZero();
                }
                dl4j.fit(TestBatches.toDataSet(SPEC, union));
            }
        }

        float[] expected = dl4j.params().toFloatVector();
        float[] actual = assemble(shards);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("parameter %d", i).isCloseTo(expected[i], within(1e-4f));
        }
        for (ParameterShard shard : shards) {
            assertThat(shard.version()).as("one version per step").isEqualTo(30);
            assertThat(shard.examplesApplied()).isEqualTo(16L * 30);
            assertThat(shard.toUpdate("m", 0).pushesApplied()).as("both workers acknowledged").containsExactly(30, 30);
        }
    }

    @Test
    void aStepLeavesOutANonFiniteGradientButStillAcknowledgesIt() {
        float[] initial = LAYOUT.slice(SPEC.initialParameters(), 0);
        ParameterShard shard = ParameterShard.initial(0, initial.clone(), Optimizer.sgd(1));
        float[] good = new float[initial.length];
        java.util.Arrays.fill(good, 1f);
        float[] bad = good.clone();
        bad[3] = Float.NaN;

        int refused = shard.applyStep(List.of(new GradientSlice(0, 0, 1, 0, 8, good),
                new GradientSlice(0, 1, 1, 0, 8, bad)));

        assertThat(refused).isEqualTo(1);
        assertThat(shard.toUpdate("m", 0).values()[0]).isEqualTo(initial[0] - 1f);
        assertThat(shard.examplesApplied()).isEqualTo(8);
        assertThat(shard.toUpdate("m", 0).pushesApplied()).containsExactly(1, 1);
    }

    private static float[] assemble(ParameterShard[] shards) {
        float[] full = new float[LAYOUT.numParams()];
        for (ParameterShard shard : shards) {
            LAYOUT.place(full, shard.shardId(), shard.toUpdate("m", 0).values());
        }
        return full;
    }

    @Test
    void aGradientWithNanOrInfinityIsRefusedAndChangesNothing() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {1, 2, 3}, Optimizer.adagrad(0.1));
        ShardState before = shard.toState();

        long nan = shard.apply(new GradientSlice(0, 0, 4, new float[] {0.1f, Float.NaN, 0.1f}));
        long inf = shard.apply(new GradientSlice(0, 0, 4, new float[] {Float.NEGATIVE_INFINITY, 0, 0}));

        assertThat(nan).isEqualTo(-1);
        assertThat(inf).isEqualTo(-1);
        assertThat(shard.toState()).isEqualTo(before);
    }

    @Test
    void stalenessIsTheNumberOfVersionsAppliedSinceTheGradientsBase() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {1, 2}, Optimizer.sgd(0.1));
        for (int i = 0; i < 5; i++) {
            shard.apply(new GradientSlice(0, shard.version(), 1, new float[] {1, 1}));
        }

        assertThat(shard.apply(new GradientSlice(0, 2, 1, new float[] {1, 1}))).isEqualTo(3);
        assertThat(shard.version()).isEqualTo(6);
    }

    @Test
    void aRestoredShardContinuesExactlyWhereTheCheckpointWas() {
        Optimizer adagrad = Optimizer.adagrad(0.1);
        ParameterShard original = ParameterShard.initial(3, new float[] {1, 2}, adagrad);
        original.apply(new GradientSlice(3, 0, 2, new float[] {0.5f, -0.5f}));
        ParameterShard restored = ParameterShard.restore(original.toState(), adagrad, 0);

        GradientSlice next = new GradientSlice(3, 1, 2, new float[] {0.25f, 1f});
        original.apply(next);
        restored.apply(next);

        assertThat(restored.toState()).isEqualTo(original.toState());
        ParamUpdate update = restored.toUpdate("fashion", 123);
        assertThat(update.shardId()).isEqualTo(3);
        assertThat(update.version()).isEqualTo(2);
        assertThat(update.examplesApplied()).isEqualTo(4);
        assertThat(update.timestampMillis()).isEqualTo(123);
    }

    @Test
    void aShardsRecordsCarryStrictlyIncreasingTimestampsEvenWhenTheClockStandsStillOrGoesBack() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {1f}, Optimizer.sgd(1));

        assertThat(shard.toUpdate("m", 1_000).timestampMillis()).isEqualTo(1_000);
        assertThat(shard.toUpdate("m", 1_000).timestampMillis()).isEqualTo(1_001);
        assertThat(shard.toUpdate("m", 900).timestampMillis()).isEqualTo(1_002);
        assertThat(shard.toUpdate("m", 5_000).timestampMillis()).isEqualTo(5_000);
    }

    @Test
    void aRestoredShardGoesBackInVersionButItsRecordsStillFollowEveryEarlierOne() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {1f}, Optimizer.sgd(1));
        ShardState checkpoint = shard.toState();
        shard.apply(new GradientSlice(0, 0, 1, new float[] {1f}));
        ParamUpdate beforeFailure = shard.toUpdate("m", 2_000);

        // Restarted later (the restart itself takes seconds): the clock has moved past every earlier record.
        ParamUpdate afterRestore = ParameterShard.restore(checkpoint, Optimizer.sgd(1), 0).toUpdate("m", 7_000);

        assertThat(afterRestore.version()).isLessThan(beforeFailure.version());
        assertThat(afterRestore.timestampMillis()).isGreaterThan(beforeFailure.timestampMillis());
    }

    @Test
    void aSnapshotOfTheShardCarriesValuesAndCountsButNoOptimizerStateAndIsNoPublication() {
        ParameterShard shard = ParameterShard.initial(2, new float[] {1f, 2f}, Optimizer.adagrad(0.1), 0.9);
        shard.apply(new GradientSlice(2, 0, 3, new float[] {1f, 1f}));
        ParamUpdate published = shard.toUpdate("m", 50);

        ParamUpdate snapshot = shard.toSnapshot("m", 10);

        assertThat(snapshot.values()).containsExactly(published.values());
        assertThat(snapshot.average()).containsExactly(published.average());
        assertThat(snapshot.version()).isEqualTo(1);
        assertThat(snapshot.examplesApplied()).isEqualTo(3);
        assertThat(snapshot.slots()).isEmpty();
        assertThat(snapshot.pushesApplied()).isEmpty();
        assertThat(shard.toUpdate("m", 50).timestampMillis()).as("the clock did not move for the snapshot").isEqualTo(51);
    }

    @Test
    void publishedValuesAreACopyNotAViewOfTheLiveShard() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {1, 2}, Optimizer.sgd(1));
        ParamUpdate before = shard.toUpdate("m", 0);

        shard.apply(new GradientSlice(0, 0, 1, new float[] {1, 1}));

        assertThat(before.values()).containsExactly(1, 2);
        assertThat(shard.toUpdate("m", 0).values()).containsExactly(0, 1);
    }

    @Test
    void theAverageFollowsTheValuesWithTheWarmUpDecay() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {0f}, Optimizer.sgd(1), 0.99);

        shard.apply(new GradientSlice(0, 0, 1, new float[] {-1f}));
        shard.apply(new GradientSlice(0, 1, 1, new float[] {-1f}));

        // Step 1 decays by min(0.99, 2/11), step 2 by min(0.99, 3/12).
        float afterOne = (2f / 11) * 0f + (1 - 2f / 11) * 1f;
        float afterTwo = (3f / 12) * afterOne + (1 - 3f / 12) * 2f;
        assertThat(shard.toUpdate("m", 0).average()[0]).isCloseTo(afterTwo, within(1e-6f));
        assertThat(shard.toUpdate("m", 0).values()).containsExactly(2f);
    }

    @Test
    void theAverageIsCheckpointedAndRestored() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {0f, 1f}, Optimizer.sgd(0.5), 0.9);
        shard.apply(new GradientSlice(0, 0, 1, new float[] {1f, -1f}));

        ParameterShard restored = ParameterShard.restore(shard.toState(), Optimizer.sgd(0.5), 0.9);
        GradientSlice next = new GradientSlice(0, 1, 1, new float[] {2f, 2f});
        shard.apply(next);
        restored.apply(next);

        assertThat(restored.toUpdate("m", 0)).isEqualTo(shard.toUpdate("m", 0));
    }

    @Test
    void withoutDecayNoAverageIsKept() {
        ParameterShard shard = ParameterShard.initial(0, new float[] {1f}, Optimizer.sgd(0.5), 0);
        shard.apply(new GradientSlice(0, 0, 1, new float[] {1f}));

        assertThat(shard.toUpdate("m", 0).hasAverage()).isFalse();
    }
}
