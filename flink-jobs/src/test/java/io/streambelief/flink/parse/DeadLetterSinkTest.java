package io.streambelief.flink.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.flink.metrics.SimpleCounter;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.topic.PartitionContents;
import io.streambelief.kafka.topic.RecordAtTheLimit;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.processes.broker.KafkaBroker;

/**
 * The dead-letter sink's writer against a real broker: a letter of a record at the source topic's
 * limit is written, cut to fit; one the topic refuses all the same is counted and the writer goes
 * on; any other failure to write still fails it, so that the restored job writes the letter again.
 */
class DeadLetterSinkTest {
    /** Small topic limits keep the records small; the fitting does not depend on the size. */
    private static final int LIMIT = 64 * 1024;

    @TempDir
    static Path dir;

    private static KafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = KafkaBroker.builder(dir).start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(List.of(topic("dead-letter", LIMIT), topic("dead-letter-8k", 8 * 1024)))
                    .all().get(30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void theLetterOfARecordAtTheSourceTopicsLimitIsWrittenCutToFit() throws Exception {
        byte[] value = RecordAtTheLimit.json(LIMIT);
        DeadLetter letter = new DeadLetter("examples", 1, 7, null, value, "record is too large");
        SimpleCounter failed = new SimpleCounter();

        try (DeadLetterSink.Writer writer = writer("dead-letter", LIMIT, failed)) {
            writer.write(letter, null);
            writer.flush(false);
        }

        assertThat(failed.getCount()).isZero();
        List<DeadLetter> written = lettersIn("dead-letter");
        assertThat(written).hasSize(1);
        assertThat(written.get(0).truncated()).isTrue();
        assertThat(written.get(0).originalValue()).isEqualTo(DeadLetter.Original.of(value));
        assertThat(written.get(0).reason()).isEqualTo("record is too large");
    }

    /** A topic made apart from the job, with a smaller limit than the job writes under. */
    @Test
    void aLetterTheTopicRefusesIsCountedAndTheNextOneIsWritten() throws Exception {
        DeadLetter tooLarge = new DeadLetter("examples", 0, 1, null, new byte[20_000], "corrupt binary example");
        DeadLetter next = new DeadLetter("examples", 0, 2, null, new byte[] {1}, "corrupt binary example");
        SimpleCounter failed = new SimpleCounter();

        try (DeadLetterSink.Writer writer = writer("dead-letter-8k", LIMIT, failed)) {
            writer.write(tooLarge, null);
            writer.flush(false);
            writer.write(next, null);
            writer.flush(false);
        }

        assertThat(failed.getCount()).isEqualTo(1);
        assertThat(lettersIn("dead-letter-8k")).containsExactly(next);
    }

    @Test
    void aFailureOfTheBrokerFailsTheWriter() {
        SimpleCounter failed = new SimpleCounter();
        DeadLetter letter = new DeadLetter("examples", 0, 3, null, new byte[] {1}, "corrupt binary example");

        assertThatThrownBy(() -> {
            try (DeadLetterSink.Writer writer = writer("no-such-topic", LIMIT, failed)) {
                writer.write(letter, null);
                writer.flush(false);
            }
        }).isInstanceOf(IOException.class).hasMessage("Writing dead letters to no-such-topic failed");
        assertThat(failed.getCount()).isZero();
    }

    private static DeadLetterSink.Writer writer(String topic, int maxRecordBytes, SimpleCounter failed) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        // A topic that does not exist is a failure of the broker's, not of the letter's: given up on in a second.
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000");
        return new DeadLetterSink.Writer(new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer()),
                topic, maxRecordBytes, failed);
    }

    private static List<DeadLetter> lettersIn(String topic) {
        return PartitionContents.upToEnd(broker.bootstrapServers(), topic, "read_uncommitted").stream()
                .map(DeadLetter::fromConsumerRecord).toList();
    }

    private static NewTopic topic(String name, int maxMessageBytes) {
        return new NewTopic(name, 1, (short) 1)
                .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(maxMessageBytes)));
    }
}
