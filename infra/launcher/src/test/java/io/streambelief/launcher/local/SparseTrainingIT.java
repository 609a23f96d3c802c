package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.Flights;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;
import io.streambelief.kafka.topic.RecordAtTheLimit;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.launcher.cluster.ClusterRestApi;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepEngine;
import io.streambelief.model.sparse.WideDeepSpec;
import io.streambelief.serving.ModelClient;

/**
 * The hybrid model on the real pipeline: flights through two workers and two embedding shards,
 * with a worker and a parameter server failing. Every row must hold the gradient of every example
 * that touched it exactly once — no row misses one through a failure, none gets one twice through
 * a replay, compared by the digest of the examples themselves, and so must every dense shard — and malformed records go to the dead-letter topic with their reason, one of them as
 * large as the examples topic takes (issue 16): its letter, cut to fit, fails nothing.
 */
class SparseTrainingIT {
    private static final int EXAMPLES = 6_000;
    private static final int CHUNK = 300;

    @TempDir
    Path work;

    @Test
    void everyRowHoldsEachExampleThatTouchedItExactlyOnceThroughFailures() throws Exception {
        FeatureSchema schema = FeatureSchema.load("flights");
        List<String> flights = Flights.read().subList(0, EXAMPLES);
        byte[] atTheLimit = RecordAtTheLimit.json(Topics.MAX_RECORD_BYTES);
        List<String> malformed = List.of("01010530,5,370,LAX", "{\"date\": \"01010530\", \"delay\": 5, \"distance\": 370, "
                + "\"origin\": \"LAX\", \"destination\": \"PHX\", \"gate\": 4}", "01010530,late,370,LAX,PHX",
                new String(atTheLimit, StandardCharsets.UTF_8));
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).modelId("flights").workers(2).seed(3)
                        .checkpointInterval(Duration.ofSeconds(1))
                        .failureInjection(new FailureInjection(2, 5, 15, 5))
                        .sparse(SparseTraining.of(schema, WideDeepSpec.parse("widedeep:dim=8,mlp=16"), 2, 3))
                        .build())) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.CSV)) {
                // Paced, so that the worker's injected failure (counted from its first completed
                // checkpoint) comes while examples still stream in.
                for (int from = 0; from < EXAMPLES; from += CHUNK) {
                    if (from == EXAMPLES / 2) {
                        feeder.feedLines(malformed, n -> {});
                        appendHostileRowGradients(deployment, schema, flights.get(0));
                    }
                    feeder.feedLines(flights.subList(from, from + CHUNK), n -> {});
                    Thread.sleep(250);
                }
            }

            Map<Long, ExampleDigest> touches = new HashMap<>();
            ExampleDigest fed = ExampleDigest.EMPTY;
            SparseExampleParser parser = new SparseExampleParser(schema, 1024);
            for (String line : flights) {
                SparseExample example = parser.parse(line.getBytes(StandardCharsets.UTF_8));
                fed = fed.plus(ExampleDigest.of(example));
                for (long id : example.ids()) {
                    touches.merge(id, ExampleDigest.of(example), ExampleDigest::plus);
                }
            }
            Map<Long, RowUpdate> rows = awaitRows(deployment, touches, Duration.ofMinutes(4));

            assertThat(TopicContents.injectedFailures(deployment)).as("the job failed and restored").isEqualTo(2);
            assertThat(new ClusterRestApi(deployment.webUi()).failures(deployment.jobId()))
                    .as("failures, none but the injected ones").hasSize(2);
            assertThat(new ClusterRestApi(deployment.webUi()).checkpoints(deployment.jobId()).restored())
                    .as("restored from a checkpoint, with batches held and in flight").isPositive();
            assertThat(deployment.jobStatus()).isEqualTo(JobStatus.RUNNING);
            assertThat(freshGradientsApplied(deployment, Duration.ofSeconds(60)))
                    .as("rows were shown gradients ahead of their commit").isPositive();
            assertThat(rows.keySet()).as("a row for every id, and only those").isEqualTo(touches.keySet());
            for (Map.Entry<Long, ExampleDigest> id : touches.entrySet()) {
                assertThat(rows.get(id.getKey()).examples()).as("examples in row %x", id.getKey())
                        .isEqualTo(id.getValue());
            }

            // The dead-letter sink is at-least-once: a replay after a failure may write a record's letter again.
            Map<String, DeadLetter> letters = new HashMap<>();
            TopicContents.all(deployment.bootstrapServers(), config.topics().deadLetter()).stream()
                    .map(DeadLetter::fromConsumerRecord)
                    .forEach(letter -> letters.put(letter.sourcePartition() + "@" + letter.sourceOffset(), letter));
            assertThat(letters.values()).extracting(DeadLetter::reason).containsExactlyInAnyOrder(
                    "CSV record has 4 values, the schema has 5 columns (date,delay,distance,origin,destination)",
                    "unknown field 'gate' (columns: date, delay, distance, origin, destination)",
                    "field 'delay' is not a number: 'late'",
                    "record is " + atTheLimit.length + " bytes, the limit is 1048576");
            assertThat(letters.values()).filteredOn(DeadLetter::truncated).singleElement().satisfies(letter -> {
                assertThat(letter.originalValue()).isEqualTo(DeadLetter.Original.of(atTheLimit));
                // Bytes compared here, not by AssertJ: a failure message would print megabytes.
                assertThat(Arrays.equals(atTheLimit, 0, letter.value().length, letter.value(), 0, letter.value().length))
                        .as("the letter holds the record's first %,d bytes", letter.value().length).isTrue();
            });

            assertServedPredictionsAreTheEnginesOnThePublishedModel(deployment, flights.subList(0, 300));
            // Once the served model holds every example (awaited above), so do the published dense shards.
            for (ParamUpdate shard : TopicContents.latestShards(deployment.bootstrapServers(), config).values()) {
                assertThat(shard.digest()).as("examples in dense shard %d", shard.shardId()).isEqualTo(fed);
            }
        }
    }

    /**
     * The fresh gradients the embedding shards of the current attempt applied, as Flink's REST API
     * reports them: its metric fetcher refreshes every few seconds, so a restarted task's metrics
     * are absent for a while.
     */
    private static double freshGradientsApplied(LocalDeployment deployment, Duration timeout) throws Exception {
        String metric = "embedding-shard.freshGradientsApplied";
        long deadline = System.nanoTime() + timeout.toNanos();
        double applied = 0;
        while (applied <= 0 && System.nanoTime() < deadline) {
            applied = new ClusterRestApi(deployment.webUi()).subtaskMetrics(deployment.jobId(), "embedding-shard", metric)
                    .stream().mapToDouble(shard -> shard.getOrDefault(metric, 0.0)).sum();
            if (applied <= 0) {
                Thread.sleep(500);
            }
        }
        return applied;
    }

    /**
     * No train/serve skew once training stops: a flight sent to the model server as a client
     * sends it (named JSON fields, no label) is answered with what the workers' engine computes
     * for it from the published dense parameters and embedding rows.
     */
    private static void assertServedPredictionsAreTheEnginesOnThePublishedModel(LocalDeployment deployment,
            List<String> flights) throws Exception {
        TrainingConfig config = deployment.config();
        SparseTraining sparse = config.sparse();
        FeatureSchema schema = sparse.schema();
        new ModelClient(deployment.servingUri(), config.modelId()).awaitExamplesTrained(EXAMPLES, Duration.ofMinutes(1));
        awaitServerCaughtUp(deployment);

        float[] dense = config.spec().initialParameters();
        TopicContents.latestShards(deployment.bootstrapServers(), config).values()
                .forEach(shard -> config.layout().place(dense, shard.shardId(), shard.values()));
        Map<Long, RowUpdate> rows = TopicContents.latestRows(deployment.bootstrapServers(), config);
        int width = sparse.table().lookupWidth();
        SparseExampleParser parser = new SparseExampleParser(schema, 1024);
        float[] lookups = new float[flights.size() * schema.slots() * width];
        float[] numerics = new float[flights.size() * schema.numerics()];
        StringBuilder request = new StringBuilder("{\"instances\": [");
        for (int i = 0; i < flights.size(); i++) {
            String[] v = flights.get(i).split(",");
            SparseExample example = parser.parse(flights.get(i).getBytes(StandardCharsets.UTF_8));
            for (int slot = 0; slot < schema.slots(); slot++) {
                float[] row = rows.get(example.ids()[slot]).values();
                System.arraycopy(row, 0, lookups, (i * schema.slots() + slot) * width, width);
            }
            System.arraycopy(example.numerics(), 0, numerics, i * schema.numerics(), schema.numerics());
            request.append(i == 0 ? "" : ", ").append("{\"date\": \"").append(v[0]).append("\", \"distance\": ")
                    .append(v[2]).append(", \"origin\": \"").append(v[3]).append("\", \"destination\": \"")
                    .append(v[4]).append("\"}");
        }
        float[] expected;
        try (WideDeepEngine engine = new WideDeepEngine(config.spec(), schema.slots(), sparse.table().dim(),
                schema.numerics())) {
            engine.setParameters(dense);
            expected = engine.predict(lookups, numerics, flights.size());
        }

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                deployment.servingUri().resolve("/v1/models/" + config.modelId() + "/labels/latest:predict"))
                .POST(HttpRequest.BodyPublishers.ofString(request.append("]}").toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode predictions = new ObjectMapper().readTree(response.body()).path("predictions");
        assertThat(predictions).hasSize(flights.size());
        for (int i = 0; i < flights.size(); i++) {
            assertThat((float) predictions.get(i).get(0).asDouble()).as("flight %s", flights.get(i))
                    .isCloseTo(expected[i], Offset.offset(1e-6f));
        }
    }

    /** Until the model server has read everything the topics hold (its /healthz says how far behind it is). */
    private static void awaitServerCaughtUp(LocalDeployment deployment) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    deployment.servingUri().resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString());
            if (new ObjectMapper().readTree(health.body()).path("consumer").path("lag_records").asLong(-1) == 0) {
                return;
            }
            assertThat(System.nanoTime()).as("the model server caught up within 60 s: %s", health.body())
                    .isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /**
     * Row gradients anyone could append to embedding-gradients for a real row: undecodable, of
     * another width, of no examples, not finite. The shards refuse them all, so the rows' exact
     * counts below still hold, and the job never fails on one.
     */
    private static void appendHostileRowGradients(LocalDeployment deployment, FeatureSchema schema, String flight)
            throws Exception {
        TrainingConfig config = deployment.config();
        long id = new SparseExampleParser(schema, 1024).parse(flight.getBytes(StandardCharsets.UTF_8)).ids()[0];
        byte[] key = RowCodecs.gradientKey(config.modelId(), id);
        int width = config.sparse().table().lookupWidth();
        float[] nan = new float[width];
        nan[0] = Float.NaN;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, deployment.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            String topic = config.topics().embeddingGradients();
            for (byte[] value : List.of("garbage".getBytes(StandardCharsets.UTF_8),
                    RowCodecs.encode(new RowGradient(id, 1, new float[width + 3])),
                    RowCodecs.encode(new RowGradient(id, 0, new float[width])),
                    RowCodecs.encode(new RowGradient(id, 1, nan)))) {
                producer.send(new ProducerRecord<>(topic, key, value)).get();
            }
        }
    }

    /** The latest published rows, once every touched row holds its examples (or the time is up). */
    private static Map<Long, RowUpdate> awaitRows(LocalDeployment deployment, Map<Long, ExampleDigest> touches,
            Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<Long, RowUpdate> rows = TopicContents.latestRows(deployment.bootstrapServers(), deployment.config());
            boolean complete = touches.entrySet().stream().allMatch(e -> rows.containsKey(e.getKey())
                    && rows.get(e.getKey()).examplesApplied() >= e.getValue().count());
            if (complete || System.nanoTime() > deadline) {
                return rows;
            }
            Thread.sleep(1000);
        }
    }
}
