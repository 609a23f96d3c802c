package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.apache.flink.api.common.JobStatus;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.streambelief.flink.config.Dealing;
import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.Example;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.engine.NativeArrays;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.ModelSnapshot;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.SnapshotReader;
import io.streambelief.serving.ModelClient;

/**
 * Exactly-once gradient application under failures: a worker and a parameter server fail at
 * random points, three times, and each time the job restores from its last checkpoint. Every
 * shard must still hold the gradients of every example fed, once: the examples it counts are
 * exactly those fed. Through the same failures, the model snapshots a read_committed reader gets
 * are whole and never go back, and the published model's version never goes back either.
 */
class FaultToleranceIT {
    private static final int EXAMPLES = 20_000;

    @TempDir
    Path work;

    /**
     * Each failure comes within 120 mini-batches or gradients of a restore, well before the data
     * runs out (worker 0 gets some 15,000 examples with warmstart), so all three happen.
     */
    @Test
    void everyExampleIsAppliedExactlyOnceThroughRepeatedFailures() throws Exception {
        ExampleSet train = FashionMnist.read().train().shuffled(3).take(EXAMPLES);
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(2).seed(3)
                        .checkpointInterval(Duration.ofSeconds(1))
                        .failureInjection(new FailureInjection(3, 30, 120, 11)).build())) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(train.examples(), 1, n -> {});
            }

            new ModelClient(deployment.servingUri(), config.modelId())
                    .awaitExamplesTrained(EXAMPLES, Duration.ofMinutes(5));

            assertThat(TopicContents.injectedFailures(deployment)).as("the job failed and restored").isEqualTo(3);
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            Map<Integer, ParamUpdate> latest = TopicContents.latestShards(deployment.bootstrapServers(), config);
            assertThat(latest).hasSize(config.layout().shardCount());
            assertThat(latest.values()).allSatisfy(shard -> assertThat(shard.examplesApplied())
                    .as("examples in shard %d: none lost, none twice", shard.shardId()).isEqualTo(EXAMPLES));
            // The examples themselves, not only their number: a batch lost and another applied twice
            // would leave the count right, but not the sum and xor of their hashes.
            ExampleDigest fed = train.examples().stream().map(ExampleDigest::of)
                    .reduce(ExampleDigest.EMPTY, ExampleDigest::plus);
            assertThat(latest.values()).allSatisfy(shard -> assertThat(shard.digest())
                    .as("digest of the examples in shard %d", shard.shardId()).isEqualTo(fed));

            assertSnapshotsWholeAndMonotonicEndingWithThePublishedModel(deployment);
            assertPublishedVersionsNeverGoBack(TopicContents.publishedShards(deployment.bootstrapServers(), config));
        }
    }

    /**
     * Exactly once on the values, not only on the counts: one worker through the same failures —
     * a worker, a parameter server, and a parameter server failing while a completed checkpoint's
     * transactions commit — ends with exactly plain DL4J's parameters on the same examples (a
     * lost batch and a duplicated one would cancel in the counts, not here). No idle flush: a
     * restore must not be what cuts a mini-batch short.
     */
    @ParameterizedTest
    @EnumSource(value = TrainingMode.class, names = {"ASYNC", "BSP"})
    void oneWorkerThroughRepeatedFailuresEndsExactlyWherePlainDl4jDoes(TrainingMode mode) throws Exception {
        assertEndsWherePlainDl4jDoesThroughFailures(b -> b.workers(1).mode(mode), 32);
    }

    /**
     * The same with two BSP workers of batch 16 against plain DL4J of batch 32 (BSP is one process
     * with batch W·B). Dealt by partition, so that every step holds the same 32 examples in every
     * attempt: dealt round-robin, a restore may start the dealing at the other worker and mix
     * examples of neighbouring steps. Momentum SGD unclipped, as plain DL4J does not clip;
     * Adagrad turns the rounding of a mean of two means into whole steps (see TrainingModesIT).
     */
    @Test
    void twoBspWorkersDealtByPartitionThroughRepeatedFailuresEndExactlyWherePlainDl4jOfBatch32Does()
            throws Exception {
        assertEndsWherePlainDl4jDoesThroughFailures(b -> b.workers(2).mode(TrainingMode.BSP)
                .dealing(Dealing.PARTITION).batchSize(16).optimizer(Optimizer.parse("momentum:lr=0.01,mu=0.9"))
                .clipNorm(0.0), 32);
    }

    private void assertEndsWherePlainDl4jDoesThroughFailures(UnaryOperator<TrainingConfig.Builder> settings,
            int plainBatch) throws Exception {
        List<Example> examples = FashionMnist.read().train().shuffled(5).take(188 * 32).examples();
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> settings.apply(TrainingConfig.builder(bootstrap).seed(5)
                        .compression(GradientCompression.NONE).idleFlush(Duration.ofMinutes(10))
                        .checkpointInterval(Duration.ofSeconds(1))
                        // At most 50 events an attempt: the second restore is at gradient 100 at the latest,
                        // leaving the third attempt the gradients it needs to fail before the stream ends.
                        .failureInjection(new FailureInjection(3, 30, 50, 17))).build())) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(examples, 1, n -> {});
            }
            new ModelClient(deployment.servingUri(), config.modelId())
                    .awaitExamplesTrained(examples.size(), Duration.ofMinutes(5));
            // The third failure comes at a checkpoint's completion, which may follow the last example.
            awaitInjectedFailures(deployment, 3);

            assertThat(TopicContents.injectedFailures(deployment)).as("the job failed and restored").isEqualTo(3);
            awaitEveryShardHolds(deployment, examples.size());
            float[] expected = NativeArrays.copyOut(Dl4jBaseline.train(config.spec(), config.optimizer(), examples,
                    plainBatch).params());
            float[] trained = config.spec().initialParameters();
            TopicContents.latestShards(deployment.bootstrapServers(), config).values()
                    .forEach(shard -> config.layout().place(trained, shard.shardId(), shard.values()));
            for (int i = 0; i < expected.length; i++) {
                assertThat(trained[i]).as("parameter %d", i).isCloseTo(expected[i], Offset.offset(1e-4f));
            }
        }
    }

    private static void awaitInjectedFailures(LocalDeployment deployment, long failures) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (TopicContents.injectedFailures(deployment) < failures && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
    }

    /** Until the last record of every shard holds all the examples: a restore republishes older values first. */
    private static void awaitEveryShardHolds(LocalDeployment deployment, long examples) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        TrainingConfig config = deployment.config();
        while (System.nanoTime() < deadline) {
            Map<Integer, ParamUpdate> latest = TopicContents.latestShards(deployment.bootstrapServers(), config);
            if (latest.size() == config.layout().shardCount()
                    && latest.values().stream().allMatch(shard -> shard.examplesApplied() == examples)) {
                return;
            }
            Thread.sleep(500);
        }
    }

    /**
     * Every snapshot read_committed is whole (no torn manifest), later snapshots never hold fewer
     * examples (a restore goes back only to the last completed checkpoint, whose snapshot is the
     * last one committed), and once training is over a snapshot holds exactly the final model —
     * not at once: with compression a worker's residual is drained by its idle flush, a push of no
     * examples after the last one counted, so the published values settle a little after the
     * counts, and one checkpoint after that the snapshots do.
     *
     * <p>And no snapshot transaction is lost or left blocking readers. After each restore Flink's
     * committer commits the restored checkpoint's transaction again, and logs "Unable to commit
     * transaction ... already fenced ... most likely signals data loss" when that transaction
     * was committed before the failure and its id has been fenced since. That is harmless only if
     * every completed checkpoint's snapshot is committed, which is asserted here. A superseded
     * transaction left open would instead hold read_committed readers at its first record until
     * its 10-minute timeout: then no snapshot after it would be readable within the 60 s waited.
     */
    private static void assertSnapshotsWholeAndMonotonicEndingWithThePublishedModel(LocalDeployment deployment)
            throws Exception {
        List<Long> completed = TopicContents.completedCheckpoints(deployment);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<ModelSnapshot> snapshots;
        SnapshotReader reader;
        Map<Integer, ParamUpdate> finalShards;
        do {
            Thread.sleep(1_000);
            reader = new SnapshotReader();
            snapshots = TopicContents.committedSnapshots(deployment.bootstrapServers(), deployment.config(), reader);
            finalShards = TopicContents.latestShards(deployment.bootstrapServers(), deployment.config());
        } while ((snapshots.isEmpty() || !holdsAll(snapshots.get(snapshots.size() - 1))
                || snapshots.get(snapshots.size() - 1).checkpointId() < completed.get(completed.size() - 1)
                || !sameValues(snapshots.get(snapshots.size() - 1), finalShards))
                && System.nanoTime() < deadline);

        assertThat(reader.torn()).as("torn snapshots").isZero();
        assertThat(reader.unreadable()).isZero();
        assertThat(snapshots.stream().map(ModelSnapshot::checkpointId).toList())
                .as("a committed snapshot for each completed checkpoint").containsAll(completed);
        assertThat(snapshots).hasSizeGreaterThan(3);
        for (int i = 1; i < snapshots.size(); i++) {
            ModelSnapshot before = snapshots.get(i - 1);
            ModelSnapshot after = snapshots.get(i);
            assertThat(after.checkpointId()).isGreaterThan(before.checkpointId());
            for (int shard = 0; shard < after.shards().length; shard++) {
                assertThat(after.manifest().examplesApplied()[shard])
                        .as("shard %d from checkpoint %d to %d", shard, before.checkpointId(), after.checkpointId())
                        .isGreaterThanOrEqualTo(before.manifest().examplesApplied()[shard]);
            }
        }
        ModelSnapshot last = snapshots.get(snapshots.size() - 1);
        assertThat(holdsAll(last)).as("a snapshot after the last example").isTrue();
        for (ParamUpdate shard : last.shards()) {
            assertThat(shard.values()).as("shard %d of the last snapshot", shard.shardId())
                    .containsExactly(finalShards.get(shard.shardId()).values());
        }
    }

    private static boolean sameValues(ModelSnapshot snapshot, Map<Integer, ParamUpdate> shards) {
        return Arrays.stream(snapshot.shards()).allMatch(shard -> shards.containsKey(shard.shardId())
                && Arrays.equals(shard.values(), shards.get(shard.shardId()).values()));
    }

    private static boolean holdsAll(ModelSnapshot snapshot) {
        return Arrays.stream(snapshot.manifest().examplesApplied()).allMatch(n -> n == EXAMPLES);
    }

    /**
     * A restore takes a shard's version (its step count) back to the checkpoint's, so the same
     * versions are published again; the records' timestamps, from which serving derives the model
     * version, must still only grow.
     */
    private static void assertPublishedVersionsNeverGoBack(List<ParamUpdate> published) {
        Map<Integer, ParamUpdate> previous = new HashMap<>();
        boolean rolledBack = false;
        for (ParamUpdate update : published) {
            ParamUpdate before = previous.put(update.shardId(), update);
            if (before != null) {
                assertThat(update.timestampMillis()).as("shard %d after %s", update.shardId(), before)
                        .isGreaterThan(before.timestampMillis());
                rolledBack |= update.version() < before.version();
            }
        }
        assertThat(rolledBack).as("a restore took some shard's step count back").isTrue();
    }
}
