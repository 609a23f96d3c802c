package io.streambelief.kafka.deadletter;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record that could not be used, kept with the reason and where it came from. On the
 * dead-letter topic the record's key and value are the original bytes, untouched, and the rest
 * travels in headers — the convention of Kafka Connect's dead-letter queues, so existing tools
 * can replay the topic and a console consumer with {@code print.headers=true} shows the reason.
 */
public record DeadLetter(String sourceTopic, int sourcePartition, long sourceOffset, byte[] key, byte[] value,
        String reason) {

    public static final String REASON_HEADER = "streambelief.error.reason";
    public static final String TOPIC_HEADER = "streambelief.source.topic";
    public static final String PARTITION_HEADER = "streambelief.source.partition";
    public static final String OFFSET_HEADER = "streambelief.source.offset";

    public DeadLetter {
        Objects.requireNonNull(sourceTopic, "sourceTopic");
        Objects.requireNonNull(reason, "reason");
    }

    public ProducerRecord<byte[], byte[]> toProducerRecord(String deadLetterTopic) {
        Headers headers = new RecordHeaders()
                .add(REASON_HEADER, utf8(reason))
                .add(TOPIC_HEADER, utf8(sourceTopic))
                .add(PARTITION_HEADER, utf8(Integer.toString(sourcePartition)))
                .add(OFFSET_HEADER, utf8(Long.toString(sourceOffset)));
        return new ProducerRecord<>(deadLetterTopic, null, key, value, headers);
    }

    /** Reads a record of the dead-letter topic back; headers missing from foreign records read as unknown. */
    public static DeadLetter fromConsumerRecord(ConsumerRecord<byte[], byte[]> record) {
        Headers headers = record.headers();
        return new DeadLetter(header(headers, TOPIC_HEADER, "?"),
                Integer.parseInt(header(headers, PARTITION_HEADER, "-1")),
                Long.parseLong(header(headers, OFFSET_HEADER, "-1")),
                record.key(), record.value(), header(headers, REASON_HEADER, "(no reason recorded)"));
    }

    private static String header(Headers headers, String name, String fallback) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null ? fallback : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetter other && sourceTopic.equals(other.sourceTopic)
                && sourcePartition == other.sourcePartition && sourceOffset == other.sourceOffset
                && Arrays.equals(key, other.key) && Arrays.equals(value, other.value) && reason.equals(other.reason);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sourceTopic, sourcePartition, sourceOffset, reason) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "DeadLetter[" + sourceTopic + "-" + sourcePartition + "@" + sourceOffset + ": " + reason + "]";
    }
}
