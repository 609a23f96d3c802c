package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.ramp;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ModelSnapshot;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.model.record.SnapshotChunk;
import io.streambelief.model.record.SnapshotChunkCodec;
import io.streambelief.model.record.SnapshotManifestCodec;
import io.streambelief.processes.broker.KafkaBroker;

/** Following model-params on a real broker. */
class ParamsConsumerTest {
    /** Kept when a test fails: the broker's log is in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;

    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.builder(dir).start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void followsTheTopicFromBeforeItExistsSkippingRecordsItCannotUse() throws Exception {
        ModelStore store = new ModelStore();
        try (ParamsConsumer consumer = new ParamsConsumer(broker.bootstrapServers(), "params-a", store);
                KafkaProducer<String, byte[]> producer = producer()) {
            consumer.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers()))) {
                Topics.ensure(admin, new TopicNames("ex-a", "params-a", "snapshots-a", "dl-a", "tm-a"), 1);
            }

            producer.send(new ProducerRecord<>("params-a", ModelIds.shardKey("m", 0),
                    "garbage".getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<>("params-a", ModelIds.definitionKey("m"),
                    ModelDefinitionCodec.encode(DEFINITION)));
            for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
                ParamUpdate update = new ParamUpdate("m", shard, 3, 96, 3, new float[LAYOUT.length(shard)]);
                producer.send(new ProducerRecord<>("params-a", ModelIds.shardKey("m", shard),
                        ParamUpdateCodec.encode(update)));
            }
            producer.flush();

            await(() -> store.get("m").map(m -> m.modelVersion() == 9).orElse(false));
            assertThat(store.get("m").orElseThrow().examplesTrained()).isEqualTo(96);
            assertThat(store.skippedRecords()).isEqualTo(1);
        }
    }

    @Test
    void aNewReaderGetsTheWholeCurrentModelFromTheCompactedTopic() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
                KafkaProducer<String, byte[]> producer = producer()) {
            Topics.ensure(admin, new TopicNames("ex-b", "params-b", "snapshots-b", "dl-b", "tm-b"), 1);
            producer.send(new ProducerRecord<>("params-b", ModelIds.definitionKey("m"),
                    ModelDefinitionCodec.encode(DEFINITION)));
            for (long version = 1; version <= 20; version++) {
                for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
                    producer.send(new ProducerRecord<>("params-b", ModelIds.shardKey("m", shard),
                            ParamUpdateCodec.encode(new ParamUpdate("m", shard, version, version * 32, version,
                                    new float[LAYOUT.length(shard)]))));
                }
            }
        }

        ModelStore late = new ModelStore();
        try (ParamsConsumer consumer = new ParamsConsumer(broker.bootstrapServers(), "params-b", late)) {
            consumer.start();
            await(() -> late.get("m").map(m -> m.modelVersion() == 60).orElse(false));
        }
        assertThat(late.get("m").orElseThrow().examplesTrained()).isEqualTo(640);
    }

    @Test
    void inSnapshotModeOnlyCommittedSnapshotsAreServed() throws Exception {
        ModelStore store = new ModelStore(ModelStore.Consistency.SNAPSHOT, null);
        List<Long> served = new CopyOnWriteArrayList<>();
        BooleanSupplier serving = () -> store.get("m").map(m -> served.add(m.checkpointId())).orElse(false);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
                KafkaProducer<String, byte[]> producer = producer();
                KafkaProducer<String, byte[]> transactional = transactionalProducer("snapshots-c-writer");
                ParamsConsumer consumer = new ParamsConsumer(broker.bootstrapServers(), "params-c", "snapshots-c",
                        store)) {
            Topics.ensure(admin, new TopicNames("ex-c", "params-c", "snapshots-c", "dl-c", "tm-c"), 1);
            producer.send(new ProducerRecord<>("params-c", ModelIds.definitionKey("m"),
                    ModelDefinitionCodec.encode(DEFINITION)));
            // A newer shard record on model-params: snapshot mode must not serve it.
            producer.send(new ProducerRecord<>("params-c", ModelIds.shardKey("m", 0),
                    ParamUpdateCodec.encode(new ParamUpdate("m", 0, 50, 5_000, 9_999, new float[LAYOUT.length(0)]))));
            producer.flush();
            transactional.initTransactions();
            writeSnapshot(transactional, "snapshots-c", ModelStoreTest.snapshot(1, 1_000, ramp(LAYOUT.numParams())),
                    true);
            consumer.start();
            await(serving);

            // A checkpoint that failed: its transaction is aborted, and no reader may see it. It is
            // newer than the committed one that follows, so a reader that did see it would keep
            // serving it (an older snapshot is stale) and never reach checkpoint 2.
            writeSnapshot(transactional, "snapshots-c", ModelStoreTest.snapshot(3, 3_000, ramp(LAYOUT.numParams())),
                    false);
            writeSnapshot(transactional, "snapshots-c", ModelStoreTest.snapshot(2, 2_000, ramp(LAYOUT.numParams())),
                    true);
            await(() -> serving.getAsBoolean() && served.get(served.size() - 1) == 2);
        }
        assertThat(served).startsWith(1L).doesNotContain(3L);
        assertThat(store.get("m").orElseThrow().modelVersion()).isEqualTo(3 * 2_000);
    }

    @Test
    void aRestartedServerAnswersFromItsLocalCopyBeforeItReachesKafka(@TempDir Path state) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
                KafkaProducer<String, byte[]> producer = producer()) {
            Topics.ensure(admin, new TopicNames("ex-d", "params-d", "snapshots-d", "dl-d", "tm-d"), 1);
            producer.send(new ProducerRecord<>("params-d", ModelIds.definitionKey("m"),
                    ModelDefinitionCodec.encode(DEFINITION)));
            for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
                producer.send(new ProducerRecord<>("params-d", ModelIds.shardKey("m", shard),
                        ParamUpdateCodec.encode(new ParamUpdate("m", shard, 4, 128, 40 + shard,
                                LAYOUT.slice(ramp(LAYOUT.numParams()), shard)))));
            }
        }
        ModelServer.Settings settings = ModelServer.Settings.defaults().withPort(0);
        ModelServer.Feed feed = ModelServer.Feed.latest(broker.bootstrapServers(), "params-d").withStateDir(state);
        float[] row = {1f, -1f, 0.5f, 2f};
        String answered;
        try (ModelServer server = ModelServer.start(settings, feed)) {
            ModelClient client = new ModelClient(URI.create("http://127.0.0.1:" + server.port()), "m");
            await(() -> status(client).map(s -> s.modelVersion() == 40 + 41 + 42).orElse(false));
            answered = Arrays.toString(client.predict(List.of(row), null)[0]);
            await(() -> health(server).path("consumer").path("lag_records").asLong(-1) == 0);
            JsonNode health = health(server);
            assertThat(health.path("status").asText()).isEqualTo("ok");
            assertThat(health.path("consumer").path("alive").asBoolean()).isTrue();
            assertThat(health.path("consumer").path("since_last_poll_ms").asLong()).isBetween(0L, 5_000L);
        }

        // Nothing listens on port 9 (discard): the server cannot reach any broker.
        try (ModelServer restarted = ModelServer.start(settings,
                ModelServer.Feed.latest("127.0.0.1:9", "params-d").withStateDir(state))) {
            ModelClient client = new ModelClient(URI.create("http://127.0.0.1:" + restarted.port()), "m");
            assertThat(client.status().orElseThrow().modelVersion()).isEqualTo(40 + 41 + 42);
            assertThat(Arrays.toString(client.predict(List.of(row), null)[0])).isEqualTo(answered);
        }
    }

    private static JsonNode health(ModelServer server) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new ObjectMapper().readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Optional<ModelClient.Status> status(ModelClient client) {
        try {
            return client.status();
        } catch (IOException | InterruptedException e) {
            return Optional.empty();
        }
    }

    private static void writeSnapshot(KafkaProducer<String, byte[]> producer, String topic, ModelSnapshot snapshot,
            boolean commit) {
        producer.beginTransaction();
        for (ParamUpdate shard : snapshot.shards()) {
            producer.send(new ProducerRecord<>(topic, "m", SnapshotChunkCodec.encode(
                    new SnapshotChunk(snapshot.checkpointId(), snapshot.shards().length, shard))));
        }
        producer.send(new ProducerRecord<>(topic, "m", SnapshotManifestCodec.encode(snapshot.manifest())));
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.flush();
            producer.abortTransaction();
        }
    }

    private static KafkaProducer<String, byte[]> transactionalProducer(String id) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    private static KafkaProducer<String, byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition met within 60 s").isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
