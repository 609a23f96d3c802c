package io.streambelief.kafka.feed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.example.ExampleParser;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.Example;
import io.streambelief.processes.broker.KafkaBroker;

/** The feeder and the dead-letter record against a real broker. */
class ExampleFeederTest {
    @TempDir
    static Path dir;

    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.builder(dir).start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            Topics.ensure(admin, TopicNames.DEFAULTS, 3);
        }
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void examplesAreDealtToPartitionsInTurnInDataSetOrder() throws Exception {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            examples.add(new Example(new float[] {i, -i}, i % 3));
        }
        List<Long> progress = new ArrayList<>();
        try (ExampleFeeder feeder = new ExampleFeeder(broker.bootstrapServers(), "examples", ExampleFormat.JSON)) {
            assertThat(feeder.partitions()).isEqualTo(3);
            assertThat(feeder.feed(examples, 2, progress::add)).isEqualTo(18);
        }

        ExampleParser parser = new ExampleParser(2, 3, 1024);
        for (int p = 0; p < 3; p++) {
            List<Example> partition = readAll("examples", p, 6).stream().map(r -> parser.parse(r.value())).toList();
            int first = p;
            assertThat(partition).extracting(e -> (int) e.features()[0])
                    .containsExactly(first, first + 3, first + 6, first, first + 3, first + 6);
        }
        assertThat(progress).as("reported every 10,000").isEmpty();
    }

    @Test
    void aRecordTheBrokerRefusesFailsTheFlush() throws Exception {
        try (ExampleFeeder feeder = new ExampleFeeder(broker.bootstrapServers(), "examples", ExampleFormat.BINARY)) {
            feeder.send(new byte[Topics.MAX_RECORD_BYTES + 1]);

            assertThatThrownBy(feeder::flush).isInstanceOf(ExecutionException.class)
                    .hasMessageStartingWith("Kafka refused a record for examples");
        }
    }

    @Test
    void aDeadLetterKeepsTheOriginalBytesAndSaysWhyAndWhereFrom() throws Exception {
        DeadLetter letter = new DeadLetter("examples", 2, 41, null, new byte[] {(byte) 0xE5, 0, 1}, "corrupt binary example");
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        int maxRequestSize = 1 << 20;
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxRequestSize));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(letter.toProducerRecord("dead-letter", maxRequestSize)).get();
        }

        ConsumerRecord<byte[], byte[]> record = readAll("dead-letter", 0, 1).get(0);

        assertThat(record.value()).isEqualTo(letter.value());
        assertThat(new String(record.headers().lastHeader(DeadLetter.REASON_HEADER).value()))
                .isEqualTo("corrupt binary example");
        assertThat(DeadLetter.fromConsumerRecord(record)).isEqualTo(letter);
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int partition, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }
}
