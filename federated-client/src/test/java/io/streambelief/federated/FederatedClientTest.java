package io.streambelief.federated;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.federated.UpdateClipping;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ModelUpdate;
import io.streambelief.model.record.ModelUpdateCodec;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.processes.broker.KafkaBroker;

/** A client against a real broker: what it reads, what it sends, and that its examples stay with it. */
class FederatedClientTest {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:8-6-3", 5);
    /** Three shards of the model's 75 parameters. */
    private static final int SHARD_SIZE = 30;

    @TempDir
    static Path dir;

    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.builder(dir).start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("model-params", 1, (short) 1),
                    new NewTopic("client-updates", 1, (short) 1), new NewTopic("other-params", 1, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void theClientSendsOneClippedUpdateAndNothingOfItsExamplesReachesATopic() throws Exception {
        List<Example> examples = privateExamples();
        double clipNorm = 0.05;
        LocalTraining.Settings training = new LocalTraining.Settings(3, 4, Optimizer.sgd(0.5), clipNorm);
        ModelUpdate update;
        try (FederatedClient client = new FederatedClient(settings("hospital-7", "model-params").withTraining(training))) {
            GlobalModel model = client.awaitModel(0, Duration.ofSeconds(30)).orElseThrow();
            assertThat(model.version()).as("nothing published yet: the initial model").isZero();
            assertThat(model.parameters()).isEqualTo(SPEC.initialParameters());

            update = client.train(model, 0, examples);
            client.send(update);
        }

        assertThat(update.clientId()).isEqualTo("hospital-7");
        assertThat(update.examples()).isEqualTo(examples.size());
        assertThat(update.delta()).hasSize((int) SPEC.numParams());
        assertThat(UpdateClipping.l2Norm(update.delta())).as("clipped").isGreaterThan(0).isLessThanOrEqualTo(clipNorm);

        List<ConsumerRecord<byte[], byte[]>> everything = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            for (String topic : admin.listTopics().names().get()) {
                everything.addAll(records(topic));
            }
        }
        // other-params holds what the other test published itself.
        assertThat(everything).filteredOn(record -> !record.topic().equals("other-params"))
                .as("the client wrote one record").singleElement().satisfies(record -> {
            assertThat(record.topic()).isEqualTo("client-updates");
            assertThat(ModelUpdateCodec.decode(record.value())).isEqualTo(update);
        });
        for (Example example : examples) {
            byte[] features = encoded(example.features(), ByteOrder.BIG_ENDIAN);
            byte[] littleEndian = encoded(example.features(), ByteOrder.LITTLE_ENDIAN);
            for (ConsumerRecord<byte[], byte[]> record : everything) {
                assertThat(indexOf(record.value(), features)).as("an example's features in %s", record.topic()).isNegative();
                assertThat(indexOf(record.value(), littleEndian)).isNegative();
            }
        }
    }

    @Test
    void theGlobalModelIsReadWhenEveryShardShowsTheSameVersion() throws Exception {
        ParameterLayout layout = ParameterLayout.of(SPEC, SHARD_SIZE);
        float[] round3 = new float[layout.numParams()];
        for (int i = 0; i < round3.length; i++) {
            round3[i] = i * 0.5f;
        }
        try (FederatedClient client = new FederatedClient(settings("phone-1", "other-params"))) {
            publish("other-params", new ParamUpdate("m", 0, 3, 0, 0, layout.slice(round3, 0)));
            publish("other-params", new ParamUpdate("another-model", 1, 9, 0, 0, new float[SHARD_SIZE]));
            assertThat(client.awaitModel(3, Duration.ofSeconds(2))).as("two shards missing").isEmpty();

            publish("other-params", new ParamUpdate("m", 1, 3, 0, 0, layout.slice(round3, 1)));
            publish("other-params", new ParamUpdate("m", 2, 2, 0, 0, layout.slice(round3, 2)));
            assertThat(client.awaitModel(0, Duration.ofSeconds(2))).as("shard 2 still at version 2").isEmpty();

            publish("other-params", new ParamUpdate("m", 2, 3, 0, 0, layout.slice(round3, 2)));
            GlobalModel model = client.awaitModel(3, Duration.ofSeconds(30)).orElseThrow();
            assertThat(model.version()).isEqualTo(3);
            assertThat(model.parameters()).isEqualTo(round3);
        }
    }

    private static FederatedClient.Settings settings(String clientId, String paramsTopic) {
        return new FederatedClient.Settings(broker.bootstrapServers(), paramsTopic, "client-updates", "m", clientId, SPEC,
                SHARD_SIZE, LocalTraining.Settings.DEFAULTS);
    }

    /** Examples whose feature values are unlike any parameter: were one sent, its bytes would be found. */
    private static List<Example> privateExamples() {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            float[] features = new float[8];
            for (int f = 0; f < 8; f++) {
                features[f] = 0.123f + 0.0171f * i + 0.00037f * f;
            }
            examples.add(new Example(features, i % 3));
        }
        return examples;
    }

    private static void publish(String topic, ParamUpdate update) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            byte[] key = ModelIds.shardKey(update.modelId(), update.shardId()).getBytes(StandardCharsets.UTF_8);
            producer.send(new ProducerRecord<>(topic, key, ParamUpdateCodec.encode(update))).get();
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> records(String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static byte[] encoded(float[] values, ByteOrder order) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(order);
        for (float value : values) {
            buffer.putFloat(value);
        }
        return buffer.array();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
