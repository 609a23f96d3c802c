package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.federated.UpdateSender;
import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.Federation;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.federated.ClientSampling;
import io.streambelief.model.federated.FedBuffBuffer;
import io.streambelief.model.federated.ServerOptimizer;
import io.streambelief.model.record.ModelUpdate;
import io.streambelief.model.record.ParamUpdate;

/**
 * The federated aggregator on a real broker and a MiniCluster with RocksDB and checkpoints. Client
 * updates are sent to client-updates as clients send them ({@link UpdateSender}) — with a retry of
 * a counted client carrying other values, an update of an earlier round, one from a client not
 * sampled and one with NaN among them — and the published global model must be exactly the
 * reference computation over the updates that count, each once, although the job is killed mid-round.
 */
class FederatedAggregationIT {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:8-6-3", 5);
    /** Three shards of the model's 75 parameters, on two subtasks. */
    private static final int SHARD_SIZE = 30;
    private static final int CLIENTS = 4;

    @TempDir
    Path work;

    @Test
    void aKilledAggregatorResumesItsRoundWithNothingLostOrCountedTwice() throws Exception {
        Federation federation = new Federation(new ClientSampling(CLIENTS, CLIENTS, 1), CLIENTS, Duration.ofMinutes(10),
                Federation.DEFAULT_BUFFER_SIZE, Federation.DEFAULT_MAX_STALENESS, ServerOptimizer.parse("fedavg"), 0,
                Federation.DEFAULT_CLIP_NORM, Federation.DEFAULT_DELTA);
        Random random = new Random(3);
        float[] reference = SPEC.initialParameters();
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work).withoutServing(),
                bootstrap -> config(bootstrap, TrainingMode.FEDAVG, federation)
                        // The coordinator fails at its 3rd or 4th update (after a checkpoint holding the first two
                        // counted), then the first shard's subtask at its 2nd or 3rd contribution.
                        .failureInjection(new FailureInjection(2, 3, 4, 5)).build());
                UpdateSender sender = new UpdateSender(deployment.bootstrapServers(), TopicNames.CLIENT_UPDATES)) {
            TrainingConfig config = deployment.config();
            for (int round = 0; round < 3; round++) {
                List<ModelUpdate> counted = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    counted.add(update("client-" + c, round, round, 1 + random.nextInt(100), random));
                }
                sender.send(counted.get(0));
                sender.send(counted.get(1));
                if (round == 0) {
                    Thread.sleep(2_500); // checkpoints complete with two clients counted
                }
                sender.send(update("client-0", round, round, 500, random)); // a retry with other values
                if (round > 0) {
                    sender.send(update("client-1", round - 1, round - 1, 500, random)); // too late for its round
                }
                sender.send(update("client-9", round, round, 500, random)); // not sampled
                float[] nan = new float[(int) SPEC.numParams()];
                nan[7] = Float.NaN;
                sender.send(new ModelUpdate(config.modelId(), "client-2", round, round, 10, 0, nan));
                sender.send(counted.get(2));
                sender.send(counted.get(3));

                reference = plus(reference, exampleWeightedMean(counted));
                awaitVersion(deployment, round + 1);
            }

            assertThat(TopicContents.injectedFailures(deployment)).as("the job failed and restored").isEqualTo(2);
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            assertModelIs(deployment, 3, reference);
            List<DeadLetter> letters = TopicContents.all(deployment.bootstrapServers(), config.topics().deadLetter())
                    .stream().map(DeadLetter::fromConsumerRecord).toList();
            // Dead letters are written at least once: a restore may write one again, never lose one.
            assertThat(letters).extracting(DeadLetter::reason)
                    .allMatch(reason -> reason.equals("update from client-2 has a value that is not finite"));
            assertThat(letters.stream().map(DeadLetter::sourceOffset).distinct()).hasSize(3);
        }
    }

    @Test
    void fedBuffAppliesEveryKUpdatesScaledByStalenessAndDropsTheTooStale() throws Exception {
        Federation federation = new Federation(ClientSampling.ANY_CLIENT, 1, Duration.ofMinutes(10), 2, 1,
                ServerOptimizer.parse("fedavg"), 0, Federation.DEFAULT_CLIP_NORM, Federation.DEFAULT_DELTA);
        Random random = new Random(4);
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work).withoutServing(),
                bootstrap -> config(bootstrap, TrainingMode.FEDBUFF, federation).build());
                UpdateSender sender = new UpdateSender(deployment.bootstrapServers(), TopicNames.CLIENT_UPDATES)) {
            ModelUpdate a = update("a", -1, 0, 10, random);
            ModelUpdate b = update("b", -1, 0, 10, random);
            sender.send(a);
            sender.send(a); // a redelivery
            sender.send(b);
            float[] version1 = plus(SPEC.initialParameters(), bufferMean(List.of(a, b), new long[] {0, 0}));
            awaitVersion(deployment, 1);

            ModelUpdate c = update("c", -1, 1, 10, random);
            ModelUpdate d = update("d", -1, 0, 10, random); // one version behind: weight 1/√2
            sender.send(c);
            sender.send(d);
            float[] version2 = plus(version1, bufferMean(List.of(c, d), new long[] {0, 1}));
            awaitVersion(deployment, 2);

            sender.send(update("e", -1, 0, 10, random)); // two versions behind, over the bound of 1
            ModelUpdate f = update("f", -1, 2, 10, random);
            ModelUpdate g = update("g", -1, 1, 10, random);
            sender.send(f);
            sender.send(g);
            float[] version3 = plus(version2, bufferMean(List.of(f, g), new long[] {0, 1}));
            awaitVersion(deployment, 3);

            assertModelIs(deployment, 3, version3);
        }
    }

    private static TrainingConfig.Builder config(String bootstrap, TrainingMode mode, Federation federation) {
        return TrainingConfig.builder(bootstrap).mode(mode).spec(SPEC).shardSize(SHARD_SIZE).parameterServers(2)
                .checkpointInterval(Duration.ofSeconds(1)).federation(federation);
    }

    private static ModelUpdate update(String client, long round, long baseVersion, long examples, Random random) {
        float[] delta = new float[(int) SPEC.numParams()];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = (float) random.nextGaussian() * 0.1f;
        }
        return new ModelUpdate(TrainingConfig.DEFAULT_MODEL_ID, client, round, baseVersion, examples, 0, delta);
    }

    /** FedAvg's reference: Σ nᵢΔᵢ / Σ nᵢ, in doubles. */
    private static double[] exampleWeightedMean(List<ModelUpdate> updates) {
        double[] mean = new double[(int) SPEC.numParams()];
        double total = updates.stream().mapToLong(ModelUpdate::examples).sum();
        for (ModelUpdate update : updates) {
            for (int i = 0; i < mean.length; i++) {
                mean[i] += update.examples() * update.delta()[i] / total;
            }
        }
        return mean;
    }

    /** FedBuff's reference: Σ Δᵢ/√(1+τᵢ) / K. */
    private static double[] bufferMean(List<ModelUpdate> updates, long[] staleness) {
        double[] mean = new double[(int) SPEC.numParams()];
        for (int u = 0; u < updates.size(); u++) {
            double weight = FedBuffBuffer.stalenessWeight(staleness[u]) / updates.size();
            for (int i = 0; i < mean.length; i++) {
                mean[i] += weight * updates.get(u).delta()[i];
            }
        }
        return mean;
    }

    private static float[] plus(float[] values, double[] delta) {
        float[] sum = new float[values.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = (float) (values[i] + delta[i]);
        }
        return sum;
    }

    private static void awaitVersion(LocalDeployment deployment, long version) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            Map<Integer, ParamUpdate> latest = TopicContents.latestShards(deployment.bootstrapServers(), deployment.config());
            if (latest.size() == 3 && latest.values().stream().allMatch(shard -> shard.version() >= version)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("The global model did not reach version " + version);
    }

    private static void assertModelIs(LocalDeployment deployment, long version, float[] expected) {
        ParameterLayout layout = deployment.config().layout();
        Map<Integer, ParamUpdate> latest = TopicContents.latestShards(deployment.bootstrapServers(), deployment.config());
        float[] published = new float[layout.numParams()];
        latest.values().forEach(shard -> {
            assertThat(shard.version()).as("shard %d", shard.shardId()).isEqualTo(version);
            layout.place(published, shard.shardId(), shard.values());
        });
        for (int i = 0; i < published.length; i++) {
            assertThat((double) published[i]).as("parameter %d", i)
                    .isCloseTo(expected[i], within(1e-5));
        }
    }

}
