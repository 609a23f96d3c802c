package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.assertj.core.data.Offset;

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
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.serving.ModelClient;

/**
 * The bounded training modes in the running system: workers that wait for parameters inside the
 * job, with checkpoints going on. What the parameter servers publish shows the bound held: every
 * shard record says which push of each worker it contains.
 */
class TrainingModesIT {
    private static final int EXAMPLES = 6_000;
    private static ExampleSet train;

    @TempDir
    Path work;

    @BeforeAll
    static void readData() throws Exception {
        train = FashionMnist.read().train().shuffled(7).take(EXAMPLES);
    }

    /**
     * SSP with bound 1: no worker's push c is applied before the other's push c - 2. Whole
     * gradients: compressed, the residuals drain only at the idle flush, after the served model
     * counts every example, so the accuracy below would depend on the timing.
     */
    @Test
    void underSspNoWorkerRunsMoreThanTheBoundAheadOfTheOther() throws Exception {
        List<ParamUpdate> published = train(train.examples(), b -> b.workers(2).mode(TrainingMode.SSP)
                .stalenessBound(1).compression(GradientCompression.NONE));

        assertThat(published).allSatisfy(update -> {
            long ahead = Math.abs(update.pushesApplied(0) - update.pushesApplied(1));
            assertThat(ahead).as("pushes between the workers in %s", update).isLessThanOrEqualTo(2);
        });
    }

    /** BSP: each shard steps once per round, with both workers' gradients in it. */
    @Test
    void underBspEveryShardStepsOnlyWithEveryWorkersGradient() throws Exception {
        List<ParamUpdate> published = train(train.examples(), b -> b.workers(2).mode(TrainingMode.BSP));

        assertThat(published).allSatisfy(update -> {
            assertThat(update.pushesApplied(0)).as("in %s", update).isEqualTo(update.pushesApplied(1))
                    .isEqualTo(update.version());
        });
    }

    /**
     * One worker, whichever the mode, is plain sequential training — through Kafka, Flink, the
     * parameter servers' RocksDB state and checkpoints: asynchronously thanks to the worker's
     * read-your-writes replica, synchronously because every step waits for the last one's result.
     */
    @ParameterizedTest
    @EnumSource(value = TrainingMode.class, names = {"ASYNC", "BSP"})
    void oneWorkerTrainsExactlyLikePlainDl4j(TrainingMode mode) throws Exception {
        List<Example> examples = train.examples().subList(0, 3_000);
        List<ParamUpdate> published = train(examples, b -> b.workers(1).mode(mode)
                .compression(GradientCompression.NONE));

        assertServedParametersAre(published, examples, Optimizer.parse(Optimizer.DEFAULT), 32);
    }

    /** The last published values of every shard equal plain DL4J's parameters after the same examples. */
    private static void assertServedParametersAre(List<ParamUpdate> published, List<Example> examples,
            Optimizer optimizer, int batch) {
        TrainingConfig config = TrainingConfig.builder("unused").seed(7).build();
        float[] expected = NativeArrays.copyOut(Dl4jBaseline.train(config.spec(), optimizer, examples, batch)
                .params());
        float[] served = config.spec().initialParameters();
        published.forEach(update -> config.layout().place(served, update.shardId(), update.values()));
        for (int i = 0; i < expected.length; i++) {
            assertThat(served[i]).as("parameter %d", i).isCloseTo(expected[i], Offset.offset(1e-4f));
        }
    }

    /**
     * BSP with W workers of batch B is one process with batch W·B: the examples are dealt to the
     * two workers in turn, so their step-t batches together are the one process's step-t batch,
     * and the servers apply the example-weighted mean of the two gradients, which is its gradient.
     * With momentum SGD: the mean of two means of 16 rounds differently from one mean of 32, and
     * Adagrad, which divides each entry by the root of its accumulated squares, turns a rounding
     * difference in an entry near zero into a step of a whole learning rate one way or the other.
     */
    @Test
    void underBspTwoWorkersOfBatch16TrainExactlyLikeOneProcessOfBatch32() throws Exception {
        List<Example> examples = train.examples().subList(0, 3_200);
        Optimizer momentum = Optimizer.parse("momentum:lr=0.01,mu=0.9");
        // No idle flush: a worker starved for a moment must not push a partial batch. No clipping:
        // plain DL4J does not clip (and momentum's default clip never binds on these examples).
        List<ParamUpdate> published = train(examples, b -> b.workers(2).mode(TrainingMode.BSP).batchSize(16)
                .optimizer(momentum).clipNorm(0.0).idleFlush(Duration.ofMinutes(10)));

        assertThat(published.get(published.size() - 1).version()).as("steps").isEqualTo(100);
        assertServedParametersAre(published, examples, momentum, 32);
    }

    /**
     * Streams the examples through the system in {@code mode}; returns every shard record published,
     * in order. The examples topic has one partition, so the examples are dealt to the workers in
     * turn in the order they were fed.
     *
     * @param settings the mode and its settings, on top of a 1 s checkpoint interval and seed 7
     */
    private List<ParamUpdate> train(List<Example> examples, UnaryOperator<TrainingConfig.Builder> settings)
            throws Exception {
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> onePartitionOfExamples(settings.apply(TrainingConfig.builder(bootstrap).seed(7)
                        .checkpointInterval(Duration.ofSeconds(1))).build()))) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(examples, 1, n -> {});
            }
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            client.awaitExamplesTrained(examples.size(), Duration.ofMinutes(5));

            assertThat(client.accuracy(FashionMnist.read().test().take(2_000).examples(), "latest"))
                    .as("it learned").isGreaterThan(0.6);
            assertThat(TopicContents.completedCheckpoints(deployment)).as("checkpoints went on while workers waited")
                    .isNotEmpty();
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            List<ParamUpdate> published = TopicContents.publishedShards(deployment.bootstrapServers(), config);
            assertThat(published).as("shard records published").hasSizeGreaterThan(10);
            return published;
        }
    }

    private static TrainingConfig onePartitionOfExamples(TrainingConfig config) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(config.topics().examples(), 1, (short) 1))).all().get();
        } catch (Exception e) {
            throw new IllegalStateException("Could not create the examples topic", e);
        }
        return config;
    }
}
