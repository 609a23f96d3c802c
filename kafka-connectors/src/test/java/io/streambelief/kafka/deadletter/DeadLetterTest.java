package io.streambelief.kafka.deadletter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Random;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.streambelief.kafka.topic.Topics;

/**
 * A dead letter always fits the record limit it is written under, as Kafka counts records
 * against it, and says what it was made from; a letter that fits anyway is written untouched.
 */
class DeadLetterTest {
    private static final int LIMIT = Topics.MAX_RECORD_BYTES;
    private static final String REASON = "record is 16777130 bytes, the limit is 1048576";

    @Test
    void aLetterThatFitsKeepsTheOriginalBytesAndNamesTheirLengthAndDigest() {
        byte[] key = "k-7".getBytes(StandardCharsets.UTF_8);
        byte[] value = "{\"features\": [0.1,".getBytes(StandardCharsets.UTF_8);
        DeadLetter letter = new DeadLetter("examples", 1, 41, key, value, "not JSON: end of input");

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dead-letter", LIMIT);

        assertThat(record.key()).isSameAs(key);
        assertThat(record.value()).isSameAs(value);
        assertThat(header(record, DeadLetter.VALUE_LENGTH_HEADER)).isEqualTo(Integer.toString(value.length));
        assertThat(header(record, DeadLetter.VALUE_SHA256_HEADER)).isEqualTo(sha256(value));
        assertThat(header(record, DeadLetter.KEY_LENGTH_HEADER)).isEqualTo("3");
        assertThat(header(record, DeadLetter.KEY_SHA256_HEADER)).isEqualTo(sha256(key));
        assertThat(record.headers().lastHeader(DeadLetter.TRUNCATED_HEADER)).isNull();
        DeadLetter read = DeadLetter.fromConsumerRecord(consumed(record));
        assertThat(read).isEqualTo(letter);
        assertThat(read.truncated()).isFalse();
    }

    @Test
    void aRecordWithoutKeyHasNoKeyHeaders() {
        ProducerRecord<byte[], byte[]> record = new DeadLetter("examples", 0, 3, null, new byte[0], "empty record")
                .toProducerRecord("dead-letter", LIMIT);

        assertThat(record.key()).isNull();
        assertThat(record.headers().lastHeader(DeadLetter.KEY_LENGTH_HEADER)).isNull();
        assertThat(header(record, DeadLetter.VALUE_LENGTH_HEADER)).isEqualTo("0");
        assertThat(DeadLetter.fromConsumerRecord(consumed(record)).originalKey()).isNull();
    }

    /** The largest value the source topic takes, one byte more, and three times as much (compressed, it gets in). */
    @ParameterizedTest(name = "{0} bytes over the largest value the source topic takes")
    @ValueSource(ints = {0, 1, 2 * LIMIT})
    void aValueAtOrOverTheLimitIsCutToFitAndKeepsItsLengthAndDigest(int over) {
        byte[] value = random(largestValueAlone(LIMIT) + over);
        DeadLetter letter = new DeadLetter("examples", 1, 99, null, value, REASON);

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dead-letter", LIMIT);

        assertThat(framedBytes(record)).as("as Kafka counts it").isLessThanOrEqualTo(LIMIT)
                .as("cut no more than needed").isGreaterThan(LIMIT - 16);
        assertThat(isPrefix(record.value(), value)).as("a prefix of the value").isTrue();
        assertThat(header(record, DeadLetter.TRUNCATED_HEADER)).isEqualTo("true");
        assertThat(header(record, DeadLetter.REASON_HEADER)).isEqualTo(REASON);
        DeadLetter read = DeadLetter.fromConsumerRecord(consumed(record));
        assertThat(read.truncated()).isTrue();
        assertThat(read.originalValue()).isEqualTo(new DeadLetter.Original(value.length, sha256(value)));
        assertThat(read.reason()).isEqualTo(REASON);
        assertThat(Arrays.asList(read.sourceTopic(), read.sourcePartition(), read.sourceOffset()))
                .containsExactly("examples", 1, 99L);
    }

    @Test
    void aKeyThatLeavesNoRoomIsCutTooAndTheValueGoes() {
        byte[] key = random(LIMIT);
        byte[] value = random(100);
        DeadLetter letter = new DeadLetter("examples", 0, 5, key, value, REASON);

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dead-letter", LIMIT);

        assertThat(framedBytes(record)).isLessThanOrEqualTo(LIMIT);
        assertThat(isPrefix(record.key(), key)).as("a prefix of the key").isTrue();
        assertThat(record.value()).isEmpty();
        DeadLetter read = DeadLetter.fromConsumerRecord(consumed(record));
        assertThat(read.originalKey()).isEqualTo(new DeadLetter.Original(key.length, sha256(key)));
        assertThat(read.originalValue()).isEqualTo(new DeadLetter.Original(100, sha256(value)));
        assertThat(read.truncated()).isTrue();
    }

    @Test
    void theLargestHeadersFitTheSmallestLimit() {
        String longestTopic = "t".repeat(249);
        String longReason = "€".repeat(5 * DeadLetter.MAX_REASON_CHARS);
        DeadLetter letter = new DeadLetter(longestTopic, Integer.MAX_VALUE, Long.MIN_VALUE, random(10_000),
                random(10_000), longReason);

        ProducerRecord<byte[], byte[]> record = letter.toProducerRecord("dead-letter", DeadLetter.MIN_RECORD_BYTES);

        assertThat(letter.reason()).hasSize(DeadLetter.MAX_REASON_CHARS).endsWith("...");
        assertThat(framedBytes(record)).isLessThanOrEqualTo(DeadLetter.MIN_RECORD_BYTES);
        assertThat(DeadLetter.fromConsumerRecord(consumed(record)).sourceTopic()).isEqualTo(longestTopic);
    }

    /** The longest value whose record, without headers, Kafka frames within {@code limit}: what a source topic takes. */
    private static int largestValueAlone(int limit) {
        // From below: the length varints of a longer value take up to 8 bytes more than those of an empty one.
        int length = limit - framedBytes(new ProducerRecord<>("examples", new byte[0])) - 8;
        while (framedBytes(new ProducerRecord<>("examples", new byte[length + 1])) <= limit) {
            length++;
        }
        return length;
    }

    private static int framedBytes(ProducerRecord<byte[], byte[]> record) {
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                record.key(), record.value(), record.headers().toArray());
    }

    private static ConsumerRecord<byte[], byte[]> consumed(ProducerRecord<byte[], byte[]> record) {
        return new ConsumerRecord<>(record.topic(), 0, 0L, 0L, TimestampType.CREATE_TIME,
                record.key() == null ? -1 : record.key().length, record.value() == null ? -1 : record.value().length,
                record.key(), record.value(), record.headers(), Optional.empty());
    }

    /** Compared here, not by AssertJ: a failure message would print megabytes. */
    private static boolean isPrefix(byte[] prefix, byte[] bytes) {
        return prefix.length <= bytes.length && Arrays.equals(prefix, 0, prefix.length, bytes, 0, prefix.length);
    }

    private static String header(ProducerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static byte[] random(int length) {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
