package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.kafka.broker.KafkaBroker;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

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
