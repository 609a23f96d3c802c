package io.streambelief.model.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.parameters.ParameterShard;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;

/** The worker loop without Flink: a trainer, its engine, and parameter shards answering in-process. */
class TrainerTest {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:6-4-3", 1);
    /** 43 parameters in shards of 20, 20 and 3. */
    private static final ParameterLayout LAYOUT = new ParameterLayout(43, 20);
    private static final Optimizer ADAGRAD = Optimizer.parse(Optimizer.DEFAULT);
    private static final int BATCH = 4;

    private final Random random = new Random(7);
    private final List<GradientSlice> pushed = new ArrayList<>();

    @Test
    void aLoneUncompressedWorkerWithItsServersIsPlainDl4j() {
        List<Example> examples = examples(40 * BATCH);
        ParameterShard[] servers = servers();
        try (GradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            Trainer trainer = trainer(settings(GradientCompression.NONE, StepBound.NONE, 0, 1), engine, 0);
            for (Example example : examples) {
                if (trainer.add(example)) {
                    trainer.trainBatch();
                    answer(servers, trainer);
                }
            }
        }

        float[] expected = Dl4jBaseline.train(SPEC, ADAGRAD, examples, BATCH).params().toFloatVector();
        assertThat(values(servers)).usingComparatorWithPrecision(1e-5f).containsExactly(expected);
    }

    @Test
    void everyClippedGradientReachesTheServersOrWaitsInTheResidual() {
        RecordingEngine engine = new RecordingEngine(new Dl4jGradientEngine(SPEC));
        double clipNorm = 0.5;
        Trainer trainer = trainer(new Trainer.Settings(BATCH, 1, 2, clipNorm, new GradientCompression(0.1, true),
                StepBound.NONE, 0, 1), engine, 0);
        for (Example example : examples(30 * BATCH + 2)) {
            if (trainer.add(example)) {
                trainer.trainBatch();
            }
        }
        trainer.pushAccumulated();

        double[] given = new double[LAYOUT.numParams()];
        for (float[] gradient : engine.gradients) {
            float scale = Trainer.clippingScale(gradient, clipNorm);
            for (int i = 0; i < given.length; i++) {
                given[i] += scale * gradient[i];
            }
        }
        float[] residual = trainer.errorFeedback().residual();
        double[] sent = sumOfPushes();
        for (int i = 0; i < given.length; i++) {
            assertThat(sent[i] + residual[i]).as("entry %d", i).isCloseTo(given[i], Offset.offset(1e-4));
        }
        assertThat(trainer.errorFeedback().residualNorm()).as("compression holds something back").isPositive();

        trainer.flush();

        assertThat(trainer.errorFeedback().hasResidual()).as("a quiet stream drains the residual").isFalse();
        assertThat(engine.gradients).as("the partial batch was trained").hasSize(31);
        float[] last = engine.gradients.get(30);
        float scale = Trainer.clippingScale(last, clipNorm);
        double[] all = sumOfPushes();
        for (int i = 0; i < given.length; i++) {
            assertThat(all[i]).isCloseTo(given[i] + scale * last[i], Offset.offset(1e-4));
        }
    }

    @Test
    void underStalenessAWorkerWaitsWhileAPeerIsMoreThanTheBoundBehind() {
        try (GradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            Trainer trainer = trainer(settings(GradientCompression.NONE, StepBound.STALENESS, 1, 2), engine, 0);
            trainBatches(trainer, 1);
            assertThat(trainer.mayTrain()).as("push 2 may be one ahead of the peer's nothing").isTrue();
            trainBatches(trainer, 1);
            assertThat(trainer.mayTrain()).as("push 3 would be two ahead").isFalse();

            receiveEveryShard(trainer, 2, 1);

            assertThat(trainer.mayTrain()).as("the peer's first push is in").isTrue();
        }
    }

    /**
     * Two workers on the same servers, one slowed to a quarter of the other's pace: the fast one
     * computes its push c only once the servers hold the slow one's push c − S − 1, so its pushes
     * lead by at most S — and it does reach S, so the bound is what holds it back.
     */
    @Test
    void underStalenessASlowedWorkerHoldsTheFastOneAtMostTheBoundAhead() {
        int bound = 2;
        ParameterShard[] servers = servers();
        Trainer.Settings settings = settings(GradientCompression.NONE, StepBound.STALENESS, bound, 2);
        try (GradientEngine fastEngine = new Dl4jGradientEngine(SPEC);
                GradientEngine slowEngine = new Dl4jGradientEngine(SPEC)) {
            Trainer fast = trainer(settings, fastEngine, 0);
            Trainer slow = trainer(settings, slowEngine, 1);
            long largestLead = 0;
            int waits = 0;
            for (int tick = 0; tick < 200; tick++) {
                if (fast.mayTrain()) {
                    largestLead = Math.max(largestLead, fast.pushes() - slow.pushes());
                    trainBatches(fast, 1);
                } else {
                    waits++;
                }
                if (tick % 4 == 3 && slow.mayTrain()) {
                    trainBatches(slow, 1);
                }
                answer(servers, fast, slow);
            }

            assertThat(largestLead).as("pushes the fast worker had made beyond the slow one's").isEqualTo(bound);
            assertThat(waits).as("ticks the fast worker waited").isGreaterThan(100);
            assertThat(slow.pushes()).as("the slow worker's pushes").isEqualTo(50);
        }
    }

    /** Synchronous steps of two workers of batch B, dealt examples in turn, are one process's steps of batch 2B. */
    @Test
    void underSynchronousStepsTwoWorkersTrainLikeOneWithTwiceTheBatch() {
        List<Example> examples = examples(40 * 2 * BATCH);
        ParameterShard[] servers = servers();
        Trainer.Settings settings = settings(GradientCompression.NONE, StepBound.SYNCHRONOUS, 0, 2);
        try (GradientEngine engine0 = new Dl4jGradientEngine(SPEC);
                GradientEngine engine1 = new Dl4jGradientEngine(SPEC)) {
            Trainer[] trainers = {trainer(settings, engine0, 0), trainer(settings, engine1, 1)};
            for (int i = 0; i < examples.size(); i++) {
                Trainer trainer = trainers[i % 2];
                if (trainer.add(examples.get(i))) {
                    assertThat(trainer.mayTrain()).isTrue();
                    trainer.trainBatch();
                }
                if (pushed.size() == 2 * LAYOUT.shardCount()) {
                    for (ParameterShard server : servers) {
                        server.applyStep(pushed.stream().filter(p -> p.shardId() == server.shardId()).toList());
                    }
                    pushed.clear();
                    for (ParameterShard server : servers) {
                        for (Trainer t : trainers) {
                            t.receive(server.toUpdate("m", 0));
                        }
                    }
                }
            }
        }

        float[] expected = Dl4jBaseline.train(SPEC, ADAGRAD, examples, 2 * BATCH).params().toFloatVector();
        assertThat(values(servers)).usingComparatorWithPrecision(1e-5f).containsExactly(expected);
    }

    /**
     * One finite but absurd example among sensible ones: with plain SGD it moves the parameters in
     * proportion to its size, unless the mini-batch's gradient is clipped, which bounds the step.
     */
    @Test
    void clippingBoundsWhatOneAbsurdExampleCanDoToSgdParameters() {
        Optimizer sgd = Optimizer.parse("sgd:lr=0.1");
        double clipNorm = 10;
        List<Example> batch = new ArrayList<>(examples(BATCH - 1));
        float[] absurd = new float[SPEC.numInputs()];
        java.util.Arrays.fill(absurd, 1e6f);
        batch.add(new Example(absurd, 1));

        assertThat(stepNorm(sgd, 0, batch)).as("unclipped").isGreaterThan(1_000 * 0.1 * clipNorm);
        assertThat(stepNorm(sgd, clipNorm, batch)).as("clipped").isLessThanOrEqualTo(0.1 * clipNorm * 1.0001);
    }

    /** The norm of the change one mini-batch makes to the servers' parameters. */
    private double stepNorm(Optimizer optimizer, double clipNorm, List<Example> batch) {
        float[] initial = SPEC.initialParameters();
        ParameterShard[] servers = new ParameterShard[LAYOUT.shardCount()];
        for (int shard = 0; shard < servers.length; shard++) {
            servers[shard] = ParameterShard.initial(shard, LAYOUT.slice(initial, shard), optimizer);
        }
        try (GradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            Trainer trainer = new Trainer(new Trainer.Settings(BATCH, 1, 1, clipNorm, GradientCompression.NONE,
                    StepBound.NONE, 0, 1), LAYOUT, 0, SPEC.numInputs(),
                    ModelReplica.initial(initial, LAYOUT, optimizer, 0), engine, List.of(), pushed::add);
            for (Example example : batch) {
                if (trainer.add(example)) {
                    trainer.trainBatch();
                }
            }
            answer(servers, trainer);
        }
        float[] after = values(servers);
        double squares = 0;
        for (int i = 0; i < after.length; i++) {
            squares += (double) (after[i] - initial[i]) * (after[i] - initial[i]);
        }
        return Math.sqrt(squares);
    }

    @Test
    void underSynchronousStepsAWorkerWaitsForTheServersResultOfItsLastPush() {
        try (GradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            Trainer trainer = trainer(settings(GradientCompression.NONE, StepBound.SYNCHRONOUS, 0, 2), engine, 0);
            assertThat(trainer.mayTrain()).isTrue();
            trainBatches(trainer, 1);
            assertThat(trainer.mayTrain()).isFalse();

            receiveEveryShard(trainer, 1, 1);

            assertThat(trainer.mayTrain()).isTrue();
        }
    }

    @Test
    void pushesCountTheirBytesAndCompressionSendsFewer() {
        ModelSpec spec = ModelSpec.parse("mlp:6-400-3", 1);
        ParameterLayout layout = new ParameterLayout(Math.toIntExact(spec.numParams()), 1000);
        try (GradientEngine engine = new Dl4jGradientEngine(spec)) {
            Trainer whole = new Trainer(settings(GradientCompression.NONE, StepBound.NONE, 0, 1), layout, 0,
                    spec.numInputs(), ModelReplica.initial(spec.initialParameters(), layout, ADAGRAD, 0), engine,
                    List.of(), pushed::add);
            Trainer compressed = new Trainer(settings(new GradientCompression(0.05, true), StepBound.NONE, 0, 1),
                    layout, 0, spec.numInputs(), ModelReplica.initial(spec.initialParameters(), layout, ADAGRAD, 0),
                    engine, List.of(), pushed::add);
            trainBatches(whole, 3);
            trainBatches(compressed, 3);

            assertThat(whole.bytesPushed()).as("32-bit floats, but for ReLUs' zeros").isGreaterThan(3 * 2L * spec.numParams());
            // A twentieth of the entries, each a 2-byte value and a 1- or 2-byte index gap.
            assertThat(compressed.bytesPushed()).isLessThan(whole.bytesPushed() / 10);
            assertThat(compressed.pushes()).isEqualTo(3);
        }
    }

    /**
     * The wide &amp; deep worker runs its own engine; between {@code beginStep} and
     * {@code completeStep} the trainer must do exactly what it does around its own engine, the
     * received parameters (a peer's pushes in them, taken in every nFetch), clipping, nPush sums
     * and compression included.
     */
    @Test
    void aStepTheCallerComputesPushesWhatTheTrainersOwnEngineWouldForIt() {
        Trainer.Settings settings = new Trainer.Settings(BATCH, 2, 2, 0.5, new GradientCompression(0.1, true),
                StepBound.NONE, 0, 2);
        List<Example> examples = examples(12 * BATCH);
        List<GradientSlice> byItsEngine = new ArrayList<>();
        List<GradientSlice> byTheCaller = new ArrayList<>();
        try (GradientEngine own = new Dl4jGradientEngine(SPEC); GradientEngine callers = new Dl4jGradientEngine(SPEC)) {
            Trainer trainer = trainer(settings, own, 0);
            ParameterShard[] servers = servers();
            for (Example example : examples) {
                if (trainer.add(example)) {
                    trainer.trainBatch();
                    byItsEngine.addAll(pushed);
                    peerPush(servers, trainer.examplesTrained() / BATCH);
                    answer(servers, trainer);
                }
            }

            Trainer stepped = new Trainer(settings, LAYOUT, 0, replica(0), List.of(), pushed::add);
            ParameterShard[] steppedServers = servers();
            MiniBatch.Builder batch = MiniBatch.builder(BATCH, SPEC.numInputs());
            ExampleDigest digest = ExampleDigest.EMPTY;
            float[] gradient = new float[LAYOUT.numParams()];
            for (Example example : examples) {
                batch.add(example);
                digest = digest.plus(ExampleDigest.of(example));
                if (batch.isFull()) {
                    stepped.beginStep(callers::setParameters);
                    MiniBatch built = batch.build();
                    assertThat(stepped.completeStep(callers.step(built, gradient).gradient(), digest)).isTrue();
                    digest = ExampleDigest.EMPTY;
                    byTheCaller.addAll(pushed);
                    peerPush(steppedServers, stepped.examplesTrained() / BATCH);
                    answer(steppedServers, stepped);
                }
            }

            assertThat(byItsEngine.stream().mapToLong(slice -> slice.digest().count()).sum())
                    .isEqualTo(examples.size() * LAYOUT.shardCount());
            assertThat(byTheCaller).hasSize(6 * LAYOUT.shardCount()).containsExactlyElementsOf(byItsEngine);
            assertThat(stepped.examplesTrained()).isEqualTo(trainer.examplesTrained());
            assertThat(stepped.bytesPushed()).isEqualTo(trainer.bytesPushed());
            assertThat(stepped.errorFeedback().residual()).containsExactly(trainer.errorFeedback().residual());
        }
    }

    @Test
    void aStepWhoseGradientIsNotFiniteOrWhichTheCallerDropsPushesNothingAndCountsItsExamples() {
        Trainer trainer = new Trainer(settings(GradientCompression.NONE, StepBound.NONE, 0, 1), LAYOUT, 0, replica(0),
                List.of(), pushed::add);
        float[] gradient = new float[LAYOUT.numParams()];
        gradient[7] = Float.NaN;

        trainer.beginStep(values -> {});
        assertThat(trainer.completeStep(gradient, ExampleDigest.ofCount(3))).isFalse();
        trainer.beginStep(values -> {});
        trainer.discardStep(2);

        assertThat(pushed).isEmpty();
        assertThat(trainer.examplesTrained()).isEqualTo(5);
        assertThat(trainer.examplesDropped()).isEqualTo(5);
    }

    private Trainer trainer(Trainer.Settings settings, GradientEngine engine, int worker) {
        return new Trainer(settings, LAYOUT, worker, SPEC.numInputs(), replica(worker), engine, List.of(),
                pushed::add);
    }

    private static ModelReplica replica(int worker) {
        return ModelReplica.initial(SPEC.initialParameters(), LAYOUT, ADAGRAD, worker);
    }

    private static Trainer.Settings settings(GradientCompression compression, StepBound bound, int staleness,
            int workers) {
        return new Trainer.Settings(BATCH, 1, 1, 0, compression, bound, staleness, workers);
    }

    private void trainBatches(Trainer trainer, int batches) {
        for (Example example : examples(batches * BATCH)) {
            if (trainer.add(example)) {
                trainer.trainBatch();
            }
        }
    }

    /** The servers' state with worker 0's pushes up to {@code own} and worker 1's up to {@code peer}. */
    private static void receiveEveryShard(Trainer trainer, long own, long peer) {
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            trainer.receive(new ParamUpdate("m", shard, 1, 1, 0, new float[LAYOUT.length(shard)], new float[0][],
                    new long[] {own, peer}, new float[0]));
        }
    }

    private static ParameterShard[] servers() {
        float[] initial = SPEC.initialParameters();
        ParameterShard[] servers = new ParameterShard[LAYOUT.shardCount()];
        for (int shard = 0; shard < servers.length; shard++) {
            servers[shard] = ParameterShard.initial(shard, LAYOUT.slice(initial, shard), ADAGRAD);
        }
        return servers;
    }

    /** Worker 1's push {@code sequence} reaches the servers: the same made-up gradient for the same sequence. */
    private static void peerPush(ParameterShard[] servers, long sequence) {
        Random gradients = new Random(sequence);
        for (ParameterShard server : servers) {
            float[] values = new float[server.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) gradients.nextGaussian();
            }
            server.apply(new GradientSlice(server.shardId(), 1, sequence, server.version(), BATCH, values));
        }
    }

    /** The servers apply what was pushed and publish every shard back to the workers. */
    private void answer(ParameterShard[] servers, Trainer... trainers) {
        for (GradientSlice slice : pushed) {
            servers[slice.shardId()].apply(slice);
        }
        pushed.clear();
        for (ParameterShard server : servers) {
            for (Trainer trainer : trainers) {
                trainer.receive(server.toUpdate("m", 0));
            }
        }
    }

    private static float[] values(ParameterShard[] servers) {
        float[] values = new float[LAYOUT.numParams()];
        for (ParameterShard server : servers) {
            LAYOUT.place(values, server.shardId(), server.toState().values());
        }
        return values;
    }

    private double[] sumOfPushes() {
        double[] sum = new double[LAYOUT.numParams()];
        for (GradientSlice slice : pushed) {
            float[] values = slice.values();
            int from = LAYOUT.offset(slice.shardId());
            for (int i = 0; i < values.length; i++) {
                sum[from + i] += values[i];
            }
        }
        return sum;
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

    /** The real engine, keeping a copy of every gradient it computes. */
    private static final class RecordingEngine implements GradientEngine {
        private final GradientEngine engine;
        final List<float[]> gradients = new ArrayList<>();

        RecordingEngine(GradientEngine engine) {
            this.engine = engine;
        }

        @Override
        public void setParameters(float[] parameters) {
            engine.setParameters(parameters);
        }

        @Override
        public GradientStep step(MiniBatch batch, float[] gradient) {
            GradientStep step = engine.step(batch, gradient);
            gradients.add(step.gradient().clone());
            return step;
        }

        @Override
        public void close() {
            engine.close();
        }
    }
}
