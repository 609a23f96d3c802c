package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobStatus;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.Example;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.parameters.ParameterShard;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ShardState;
import io.streambelief.serving.ModelClient;

/**
 * The job is stopped with a savepoint and started again from it at another parallelism: two
 * workers and two parameter servers become one worker and three parameter servers, so the
 * parameter servers' keyed state is split anew and the workers' replicas are merged into one.
 * Training must go on from exactly the model it stopped with, and every example fed, across both
 * runs, must be applied exactly once.
 */
class RescaleIT {
    private static final int EXAMPLES = 10_000;
    private static final int BEFORE_STOP = 5_000;

    @TempDir
    Path work;

    @Test
    void aJobRestoredAtAnotherParallelismContinuesTheSameModelAndAppliesEveryExampleOnce() throws Exception {
        List<Example> examples = FashionMnist.read().train().shuffled(11).take(EXAMPLES).examples();
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                // A short warmstart, so that both workers have pushed before the stop; whole gradients,
                // so that the test can compute the restored job's first step exactly.
                bootstrap -> TrainingConfig.builder(bootstrap).workers(2).parameterServers(2).seed(11)
                        .warmstartExamples(1_000L).compression(GradientCompression.NONE)
                        .checkpointInterval(Duration.ofSeconds(1)).build())) {
            ModelClient client = new ModelClient(deployment.servingUri(), deployment.config().modelId());
            feed(deployment, examples.subList(0, BEFORE_STOP));
            client.awaitExamplesTrained(BEFORE_STOP, Duration.ofMinutes(2));

            String savepoint = deployment.stopWithSavepoint();
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.FINISHED);
            // Every shard published its state after the last example's gradient: the savepoint's state.
            Map<Integer, ParamUpdate> atStop = TopicContents.latestShards(deployment.bootstrapServers(),
                    deployment.config());
            assertThat(atStop.values()).allSatisfy(shard -> assertThat(shard.examplesApplied()).isEqualTo(BEFORE_STOP));
            long lastPushBeforeStop = Math.max(atStop.get(0).pushesApplied(0), atStop.get(0).pushesApplied(1));
            assertThat(atStop.get(0).pushesApplied(1)).as("worker 1 pushed before the stop").isPositive();

            TrainingConfig rescaled = deployment.config().toBuilder().workers(1).parameterServers(3).build();
            deployment.restoreJob(savepoint, rescaled);

            // One mini-batch: the restored job's first step, which the test can compute on its own.
            List<Example> firstBatch = examples.subList(BEFORE_STOP, BEFORE_STOP + rescaled.batchSize());
            feed(deployment, firstBatch);
            client.awaitExamplesTrained(BEFORE_STOP + firstBatch.size(), Duration.ofMinutes(1));
            Map<Integer, ParamUpdate> afterFirstStep = TopicContents.latestShards(deployment.bootstrapServers(),
                    rescaled);
            Map<Integer, ParamUpdate> expected = oneStep(rescaled, atStop, firstBatch, lastPushBeforeStop + 1);
            assertThat(afterFirstStep).hasSize(rescaled.layout().shardCount());
            for (ParamUpdate shard : afterFirstStep.values()) {
                ParamUpdate want = expected.get(shard.shardId());
                assertThat(shard.version()).as("version of shard %d", shard.shardId()).isEqualTo(want.version());
                assertThat(shard.examplesApplied()).isEqualTo(want.examplesApplied());
                assertThat(shard.pushesApplied(0)).as("the worker's pushes are numbered after both old workers'")
                        .isEqualTo(lastPushBeforeStop + 1);
                // The batch's examples may reach the worker in another order than here (two partitions),
                // which changes the gradient's float sums in their last bits; a model that did not
                // continue from the savepoint would be off by whole optimizer steps.
                assertThat(shard.values()).as("values of shard %d", shard.shardId())
                        .containsExactly(want.values(), Offset.offset(1e-6f));
            }

            feed(deployment, examples.subList(BEFORE_STOP + firstBatch.size(), EXAMPLES));
            client.awaitExamplesTrained(EXAMPLES, Duration.ofMinutes(2));
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            Map<Integer, ParamUpdate> latest = TopicContents.latestShards(deployment.bootstrapServers(), rescaled);
            assertThat(latest).hasSize(rescaled.layout().shardCount());
            assertThat(latest.values()).allSatisfy(shard -> assertThat(shard.examplesApplied())
                    .as("examples in shard %d over both runs: none lost, none twice", shard.shardId())
                    .isEqualTo(EXAMPLES));
        }
    }

    /**
     * What one worker's push of {@code batch} does to the shards as they were at the stop: the
     * gradient at those parameters, applied by each shard's optimizer.
     */
    private static Map<Integer, ParamUpdate> oneStep(TrainingConfig config, Map<Integer, ParamUpdate> shards,
            List<Example> batch, long push) throws Exception {
        ParameterLayout layout = config.layout();
        float[] parameters = new float[layout.numParams()];
        shards.values().forEach(shard -> layout.place(parameters, shard.shardId(), shard.values()));
        MiniBatch.Builder examples = MiniBatch.builder(batch.size(), config.spec().numInputs());
        batch.forEach(examples::add);
        float[] gradient;
        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(config.spec())) {
            engine.setParameters(parameters);
            gradient = engine.step(examples.build()).gradient();
        }
        Map<Integer, ParamUpdate> stepped = new java.util.HashMap<>();
        for (ParamUpdate shard : shards.values()) {
            ParameterShard restored = ParameterShard.restore(new ShardState(shard.shardId(), shard.version(),
                    shard.examplesApplied(), shard.values(), shard.slots(), shard.pushesApplied(), shard.average(),
                    shard.digest()),
                    config.optimizer(), config.averageDecay());
            restored.apply(new GradientSlice(shard.shardId(), 0, push, shard.version(), batch.size(),
                    layout.slice(gradient, shard.shardId())));
            stepped.put(shard.shardId(), restored.toUpdate(config.modelId(), 0));
        }
        return stepped;
    }

    private static void feed(LocalDeployment deployment, List<Example> examples) throws Exception {
        try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                deployment.config().topics().examples(), ExampleFormat.BINARY)) {
            feeder.feed(examples, 1, n -> {});
        }
    }
}
