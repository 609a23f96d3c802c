package io.streambelief.processes.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaBrokerTest {

    @TempDir
    Path dir;

    @Test
    void aStartedBrokerServesClientsAndKeepsItsDataAcrossACleanRestart() throws Exception {
        String bootstrap;
        try (KafkaBroker broker = KafkaBroker.builder(dir).start()) {
            bootstrap = broker.bootstrapServers();
            createTopic(bootstrap, "t");
            produce(bootstrap, "t", "a", "b");
            assertThat(consumeAll(bootstrap, "t", 2)).containsExactly("a", "b");
        }

        try (KafkaBroker again = KafkaBroker.builder(dir).start()) {
            assertThat(again.bootstrapServers()).isEqualTo(bootstrap);
            produce(bootstrap, "t", "c");
            assertThat(consumeAll(bootstrap, "t", 3)).containsExactly("a", "b", "c");
        }
    }

    @Test
    void aKilledBrokerRestartsOnItsDataWithAcknowledgedRecordsIntact() throws Exception {
        KafkaBroker broker = KafkaBroker.builder(dir).start();
        String bootstrap = broker.bootstrapServers();
        createTopic(bootstrap, "t");
        produce(bootstrap, "t", "before-crash");
        long pid = broker.pid();

        broker.kill();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();

        try (KafkaBroker restarted = KafkaBroker.builder(dir).start()) {
            assertThat(consumeAll(restarted.bootstrapServers(), "t", 1)).containsExactly("before-crash");
        }
    }

    @Test
    void aReusedDirectoryRefusesAnotherPort() throws Exception {
        int port;
        try (KafkaBroker broker = KafkaBroker.builder(dir).start()) {
            port = Integer.parseInt(broker.bootstrapServers().split(":")[1]);
        }

        assertThatThrownBy(() -> KafkaBroker.builder(dir).port(port == 65535 ? port - 1 : port + 1).start())
                .hasMessageContaining("belongs to a broker on port " + port);
    }

    @Test
    void aBrokerThatCannotStartReportsItsLog() {
        assertThatThrownBy(() -> KafkaBroker.builder(dir).classpath(List.of("/nonexistent.jar"))
                .startTimeout(Duration.ofSeconds(30)).start())
                .hasMessageContaining("exited during start-up")
                .hasMessageContaining("ClassNotFoundException");
    }

    static void createTopic(String bootstrap, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    static void produce(String bootstrap, String topic, String... values) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (String value : values) {
                producer.send(new ProducerRecord<>(topic, value)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    static List<String> consumeAll(String bootstrap, String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }
}
