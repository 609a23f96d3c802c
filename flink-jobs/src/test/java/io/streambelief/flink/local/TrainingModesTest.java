package io.streambelief.flink.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.assertj.core.data.Offset;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.TrainingConfig;
import io.streambelief.flink.TrainingMode;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.Example;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.engine.NativeArrays;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.serving.ModelClient;

/**
 * The bounded training modes in the running system: workers that wait for parameters inside the
 * job, with checkpoints going on. What the parameter servers publish shows the bound held: every
 * shard record says which push of each worker it contains.
 */
class TrainingModesTest {
    private static final int EXAMPLES = 6_000;
    private static ExampleSet train;

    @TempDir
    Path work;

    @BeforeAll
    static void readData() throws Exception {
        train = FashionMnist.read().train().shuffled(7).take(EXAMPLES);
    }

    /** SSP with bound 1: no worker's push c is applied before the other's push c - 2. */
    @Test
    void underSspNoWorkerRunsMoreThanTheBoundAheadOfTheOther() throws Exception {
        List<ParamUpdate> published = train(TrainingMode.SSP, 1);

        assertThat(published).allSatisfy(update -> {
            long ahead = Math.abs(update.pushesApplied(0) - update.pushesApplied(1));
            assertThat(ahead).as("pushes between the workers in %s", update).isLessThanOrEqualTo(2);
        });
    }

    /** BSP: each shard steps once per round, with both workers' gradients in it. */
    @Test
    void underBspEveryShardStepsOnlyWithEveryWorkersGradient() throws Exception {
        List<ParamUpdate> published = train(TrainingMode.BSP, 0);

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
        List<ParamUpdate> published = train(mode, 0, 1, examples, GradientCompression.NONE);

        TrainingConfig config = TrainingConfig.builder("unused").seed(7).build();
        float[] expected = NativeArrays.copyOut(Dl4jBaseline.train(config.spec(), config.optimizer(), examples,
                config.batchSize()).params());
        float[] served = config.spec().initialParameters();
        published.forEach(update -> config.layout().place(served, update.shardId(), update.values()));
        for (int i = 0; i < expected.length; i++) {
            assertThat(served[i]).as("parameter %d", i).isCloseTo(expected[i], Offset.offset(1e-4f));
        }
    }

    private List<ParamUpdate> train(TrainingMode mode, int bound) throws Exception {
        return train(mode, bound, 2, train.examples(), null);
    }

    /**
     * Streams the examples through the system in {@code mode}; returns every shard record published, in order.
     *
     * @param compression what workers push (null: the default)
     */
    private List<ParamUpdate> train(TrainingMode mode, int bound, int workers, List<Example> examples,
            GradientCompression compression) throws Exception {
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(workers).seed(7).mode(mode)
                        .stalenessBound(bound).compression(compression).checkpointInterval(Duration.ofSeconds(1))
                        .build())) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(examples, 1, n -> {});
            }
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            client.awaitExamplesTrained(examples.size(), Duration.ofMinutes(5));

            assertThat(client.accuracy(FashionMnist.read().test().take(2_000).examples(), "latest"))
                    .as("it learned").isGreaterThan(0.6);
            assertThat(completedCheckpoints(deployment)).as("checkpoints went on while workers waited")
                    .isPositive();
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            List<ParamUpdate> published = TopicContents.publishedShards(deployment.bootstrapServers(), config);
            assertThat(published).as("shard records published").hasSizeGreaterThan(10);
            return published;
        }
    }

    private static long completedCheckpoints(LocalDeployment deployment) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                deployment.webUi().resolve("/jobs/" + deployment.jobId() + "/checkpoints")).build(),
                HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(response.body()).path("counts").path("completed").asLong();
    }

}
