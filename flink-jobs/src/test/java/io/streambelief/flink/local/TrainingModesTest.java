package io.streambelief.flink.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.engine.NativeArrays;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
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
            long[] acks = update.pushesApplied();
            long ahead = Math.abs(ack(acks, 0) - ack(acks, 1));
            assertThat(ahead).as("pushes between the workers in %s", update).isLessThanOrEqualTo(2);
        });
    }

    /** BSP: each shard steps once per round, with both workers' gradients in it. */
    @Test
    void underBspEveryShardStepsOnlyWithEveryWorkersGradient() throws Exception {
        List<ParamUpdate> published = train(TrainingMode.BSP, 0);

        assertThat(published).allSatisfy(update -> {
            long[] acks = update.pushesApplied();
            assertThat(ack(acks, 0)).as("in %s", update).isEqualTo(ack(acks, 1)).isEqualTo(update.version());
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
        List<ParamUpdate> published = train(mode, 0, 1, examples);

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
        return train(mode, bound, 2, train.examples());
    }

    /** Streams the examples through the system in {@code mode}; returns every shard record published, in order. */
    private List<ParamUpdate> train(TrainingMode mode, int bound, int workers, List<Example> examples)
            throws Exception {
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(workers).seed(7).mode(mode)
                        .stalenessBound(bound).checkpointInterval(Duration.ofSeconds(1)).build())) {
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
            return published(deployment.bootstrapServers(), config);
        }
    }

    private static long completedCheckpoints(LocalDeployment deployment) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                deployment.webUi().resolve("/jobs/" + deployment.jobId() + "/checkpoints")).build(),
                HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(response.body()).path("counts").path("completed").asLong();
    }

    private static List<ParamUpdate> published(String bootstrap, TrainingConfig config) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20));
        List<ParamUpdate> updates = new ArrayList<>();
        String prefix = config.modelId() + "/";
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(config.topics().modelParams(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String key = new String(record.key(), StandardCharsets.UTF_8);
                    if (key.startsWith(prefix) && !key.equals(ModelIds.definitionKey(config.modelId()))) {
                        updates.add(ParamUpdateCodec.decode(record.value()));
                    }
                }
            }
        }
        assertThat(updates).as("shard records published").hasSizeGreaterThan(10);
        return updates;
    }

    private static long ack(long[] acks, int worker) {
        return worker < acks.length ? acks[worker] : 0;
    }
}
