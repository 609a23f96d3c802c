package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.kafka.topic.RecordAtTheLimit;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.launcher.cluster.ClusterRestApi;
import io.streambelief.model.Example;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.record.ExampleCodec;
import io.streambelief.serving.ModelClient;

/**
 * The whole system, as {@code ./run-local} runs it: a real broker, the training job on a
 * MiniCluster with RocksDB and checkpoints, the model server as its own process. Fashion-MNIST's
 * training images are streamed once with two workers (with malformed records among them), then
 * the test images are sent to the model server. The served model must be about as accurate as
 * plain DL4J trained on the same model, data and order.
 *
 * <p>One malformed record is as large as the examples topic takes (issue 16): its dead letter,
 * cut to fit the dead-letter topic, must not stop training or fail the job.
 */
class EndToEndIT {
    private static final long SEED = 42;

    private static ExampleSet train;
    private static ExampleSet test;

    @TempDir
    Path work;

    @BeforeAll
    static void readFashionMnist() throws Exception {
        FashionMnist.Splits splits = FashionMnist.read();
        train = splits.train().shuffled(SEED);
        test = splits.test();
    }

    @Test
    void streamsFashionMnistOnceAndServesAModelAsAccurateAsPlainDl4j() throws Exception {
        List<byte[]> malformed = malformedRecords();
        byte[] atTheLimit = malformed.get(malformed.size() - 1);
        TrainingConfig config;
        double servedAccuracy;
        double latestAccuracy;
        long feedNanos;
        long trainedNanos;
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(2).seed(SEED).build())) {
            config = deployment.config();
            long start = System.nanoTime();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                int half = train.size() / 2;
                feeder.feed(train.examples().subList(0, half), 1, n -> {});
                malformed.forEach(feeder::send);
                feeder.flush();
                feeder.feed(train.examples().subList(half, train.size()), 1, n -> {});
            }
            feedNanos = System.nanoTime() - start;

            // Before waiting for the training: a job stuck on a letter it cannot write would train nothing more.
            List<DeadLetter> letters = deadLetters(deployment.bootstrapServers(), config.topics().deadLetter(),
                    malformed.size());
            assertThat(letters).extracting(DeadLetter::reason).hasSize(malformed.size())
                    .anySatisfy(reason -> assertThat(reason).startsWith("not JSON"))
                    .contains(
                    "has 783 features, the model takes 784",
                    "label 10 is outside 0..9",
                    "feature 3 is NaN",
                    "empty record",
                    "record is 1048577 bytes, the limit is 1048576",
                    "record is " + atTheLimit.length + " bytes, the limit is 1048576");
            assertThat(letters).allSatisfy(letter -> {
                assertThat(letter.sourceTopic()).isEqualTo(config.topics().examples());
                assertThat(letter.sourceOffset()).isNotNegative();
            });
            // Bytes compared here, not by AssertJ: a failure message would print megabytes.
            assertThat(letters).as("a letter holds the first record whole")
                    .anyMatch(letter -> Arrays.equals(letter.value(), malformed.get(0)));
            assertThat(letters).filteredOn(DeadLetter::truncated).singleElement().satisfies(letter -> {
                assertThat(letter.originalValue()).isEqualTo(DeadLetter.Original.of(atTheLimit));
                assertThat(Arrays.equals(atTheLimit, 0, letter.value().length, letter.value(), 0, letter.value().length))
                        .as("the letter holds the record's first %,d bytes", letter.value().length).isTrue();
            });

            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            ModelClient.Status status = client.awaitExamplesTrained(train.size(), Duration.ofMinutes(10));
            trainedNanos = System.nanoTime() - start;
            assertThat(status.modelVersion()).isPositive();

            assertThat(status.servedParameters()).isEqualTo("average");
            servedAccuracy = client.accuracy(test.examples(), null);
            latestAccuracy = client.accuracy(test.examples(), "latest");
            System.out.println("Progressive validation: " + progressiveTimeline(deployment.bootstrapServers(),
                    config.topics().trainingMetrics()));

            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            assertThat(new ClusterRestApi(deployment.webUi()).failures(deployment.jobId())).as("job failures").isEmpty();
        }

        double baselineAccuracy = Dl4jBaseline.accuracy(
                Dl4jBaseline.train(config.spec(), config.optimizer(), train.examples(), config.batchSize()),
                config.spec(), test.examples());
        System.out.printf(Locale.ROOT, "End-to-end: %,d examples fed in %.1f s, all trained after %.1f s; served "
                + "accuracy %.4f (averaged parameters; latest parameters %.4f), plain DL4J accuracy %.4f "
                + "(%,d test images)%n", train.size(), feedNanos / 1e9, trainedNanos / 1e9, servedAccuracy,
                latestAccuracy, baselineAccuracy, test.size());
        assertThat(servedAccuracy).isGreaterThanOrEqualTo(0.84);
        assertThat(servedAccuracy).isGreaterThanOrEqualTo(baselineAccuracy - 0.015);
    }

    /** One record of each kind the parser must refuse. */
    private static List<byte[]> malformedRecords() {
        Example good = train.examples().get(0);
        float[] short783 = Arrays.copyOf(good.features(), 783);
        float[] withNan = good.features().clone();
        withNan[3] = Float.NaN;
        return List.of(
                "{\"features\": [0.1, ".getBytes(StandardCharsets.UTF_8),
                ExampleFormat.CSV.encode(new Example(short783, 1)),
                ExampleFormat.JSON.encode(new Example(good.features(), 10)),
                ExampleCodec.encode(new Example(withNan, 2)),
                new byte[0],
                new byte[(1 << 20) + 1],
                RecordAtTheLimit.json(Topics.MAX_RECORD_BYTES));
    }

    /** Progressive accuracy per 10,000 examples, from the workers' training-metrics reports. */
    private static String progressiveTimeline(String bootstrap, String topic) {
        long[] examples = new long[8];
        double[] correct = new double[8];
        long total = 0;
        for (ConsumerRecord<byte[], byte[]> record : TopicContents.all(bootstrap, topic)) {
            TrainingMetrics m = TrainingMetrics.fromJson(record.value());
            total += m.windowExamples();
            int bucket = (int) Math.min(7, (total - 1) / 10_000);
            examples[bucket] += m.windowExamples();
            correct[bucket] += m.accuracy() * m.windowExamples();
        }
        StringBuilder line = new StringBuilder();
        for (int b = 0; b < examples.length && examples[b] > 0; b++) {
            line.append(String.format(Locale.ROOT, "%s%dk: %.1f%%", b == 0 ? "" : ", ", (b + 1) * 10,
                    100 * correct[b] / examples[b]));
        }
        return line.toString();
    }

    private static List<DeadLetter> deadLetters(String bootstrap, String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        List<DeadLetter> letters = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (letters.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    letters.add(DeadLetter.fromConsumerRecord(record));
                }
            }
        }
        return letters;
    }
}
