package io.streambelief.kafka.deadletter;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;

/**
 * A record that could not be used, kept with the reason and where it came from. On the
 * dead-letter topic the record's key and value are the original bytes and the rest travels in
 * headers — the convention of Kafka Connect's dead-letter queues, so existing tools can replay
 * the topic and a console consumer with {@code print.headers=true} shows the reason.
 *
 * <p>A dead letter always fits its topic ({@link #toProducerRecord}): a record as large as the
 * source topic takes no longer does once the headers are added, and a letter that cannot be
 * written would stop the job at the same offset on every restart. When it does not fit, the
 * copied value is cut to the room left (and the key, if it alone leaves none), and the headers
 * say so and keep what identifies the original.
 *
 * <p>Headers, all UTF-8 text:
 * <ul>
 * <li>{@value #REASON_HEADER}: why the record could not be used;</li>
 * <li>{@value #TOPIC_HEADER}, {@value #PARTITION_HEADER}, {@value #OFFSET_HEADER}: where it was
 *     read, so the whole original can be read again while the source topic retains it;</li>
 * <li>{@value #VALUE_LENGTH_HEADER} and {@value #VALUE_SHA256_HEADER}: the original value's
 *     length in bytes and its SHA-256 in lower-case hex — absent for a null value;</li>
 * <li>{@value #KEY_LENGTH_HEADER} and {@value #KEY_SHA256_HEADER}: the same for the key — absent
 *     for a null key;</li>
 * <li>{@value #TRUNCATED_HEADER}: {@code true}, only on a letter whose key or value is a cut
 *     copy (a prefix) of the original.</li>
 * </ul>
 *
 * @param originalKey the length and digest of the key as it was read; null for a null key
 * @param originalValue the same for the value; null for a null value
 */
public record DeadLetter(String sourceTopic, int sourcePartition, long sourceOffset, byte[] key, byte[] value,
        String reason, Original originalKey, Original originalValue) {

    public static final String REASON_HEADER = "streambelief.error.reason";
    public static final String TOPIC_HEADER = "streambelief.source.topic";
    public static final String PARTITION_HEADER = "streambelief.source.partition";
    public static final String OFFSET_HEADER = "streambelief.source.offset";
    public static final String KEY_LENGTH_HEADER = "streambelief.original.key.length";
    public static final String KEY_SHA256_HEADER = "streambelief.original.key.sha256";
    public static final String VALUE_LENGTH_HEADER = "streambelief.original.value.length";
    public static final String VALUE_SHA256_HEADER = "streambelief.original.value.sha256";
    public static final String TRUNCATED_HEADER = "streambelief.truncated";

    /**
     * The longest reason kept. A reason is a few words; one that quotes the record (a field
     * name, a parser's message) could otherwise be as large as the record itself.
     */
    public static final int MAX_REASON_CHARS = 1000;

    /**
     * The smallest record limit a dead letter can be fitted to: Kafka's batch and record framing
     * and the headers at their largest — the longest topic name Kafka allows (249 characters), a
     * reason of {@value #MAX_REASON_CHARS} characters of 3 UTF-8 bytes each, offsets, lengths and
     * digests — come to under 4 KiB. Any real topic takes far more.
     */
    public static final int MIN_RECORD_BYTES = 4096;

    /** Each length varint of a cut record (the record's, the key's, the value's) grows by 4 bytes at most. */
    private static final int VARINT_GROWTH = 3 * 4;
    private static final byte[] NOTHING = new byte[0];

    /** The length and SHA-256 (lower-case hex) of a key or value as it was read, whatever became of the copy. */
    public record Original(int length, String sha256) {
        public Original {
            Objects.requireNonNull(sha256, "sha256");
        }

        /** Null for null bytes: a record without a key (or a tombstone) has nothing to describe. */
        public static Original of(byte[] bytes) {
            return bytes == null ? null : new Original(bytes.length, hexSha256(bytes));
        }
    }

    public DeadLetter {
        Objects.requireNonNull(sourceTopic, "sourceTopic");
        Objects.requireNonNull(reason, "reason");
        reason = clipped(reason);
    }

    /** A dead letter of a record as it was read: its key and value are the originals. */
    public DeadLetter(String sourceTopic, int sourcePartition, long sourceOffset, byte[] key, byte[] value,
            String reason) {
        this(sourceTopic, sourcePartition, sourceOffset, key, value, reason, Original.of(key), Original.of(value));
    }

    /** Whether the key or value held is a cut copy of the original (read from the dead-letter topic). */
    public boolean truncated() {
        return lengthOf(key) != lengthOf(originalKey) || lengthOf(value) != lengthOf(originalValue);
    }

    /**
     * This letter as a record of {@code deadLetterTopic} that takes at most {@code maxRecordBytes}
     * as Kafka frames it (the producer's {@code max.request.size} and the topic's
     * {@code max.message.bytes} both count a record in its own batch so). A letter that fits is
     * written as it is, key and value byte for byte; one that does not is cut as the class
     * comment describes.
     *
     * @param maxRecordBytes the smaller of the producer's and the topic's limits, at least {@link #MIN_RECORD_BYTES}
     */
    public ProducerRecord<byte[], byte[]> toProducerRecord(String deadLetterTopic, int maxRecordBytes) {
        if (maxRecordBytes < MIN_RECORD_BYTES) {
            throw new IllegalArgumentException("A dead letter needs room for its headers: the record limit must be at "
                    + "least " + MIN_RECORD_BYTES + " bytes, got " + maxRecordBytes);
        }
        Header[] whole = headers(false);
        if (framedBytes(key, value, whole) <= maxRecordBytes) {
            return new ProducerRecord<>(deadLetterTopic, null, key, value, new RecordHeaders(whole));
        }
        // The key (usually small, often none) keeps its room before the value: the value's digest
        // already identifies the rest of it.
        Header[] cut = headers(true);
        int room = maxRecordBytes - VARINT_GROWTH - framedBytes(emptied(key), emptied(value), cut);
        byte[] keptKey = prefix(key, room);
        byte[] keptValue = prefix(value, room - Math.max(0, lengthOf(keptKey)));
        return new ProducerRecord<>(deadLetterTopic, null, keptKey, keptValue, new RecordHeaders(cut));
    }

    /**
     * Reads a record of the dead-letter topic back. Headers missing from foreign records read as
     * unknown; without length and digest headers, the key and value held count as the originals.
     */
    public static DeadLetter fromConsumerRecord(ConsumerRecord<byte[], byte[]> record) {
        Headers headers = record.headers();
        return new DeadLetter(header(headers, TOPIC_HEADER, "?"),
                Integer.parseInt(header(headers, PARTITION_HEADER, "-1")),
                Long.parseLong(header(headers, OFFSET_HEADER, "-1")),
                record.key(), record.value(), header(headers, REASON_HEADER, "(no reason recorded)"),
                original(headers, KEY_LENGTH_HEADER, KEY_SHA256_HEADER, record.key()),
                original(headers, VALUE_LENGTH_HEADER, VALUE_SHA256_HEADER, record.value()));
    }

    private Header[] headers(boolean truncated) {
        List<Header> headers = new ArrayList<>(9);
        headers.add(new RecordHeader(REASON_HEADER, utf8(reason)));
        headers.add(new RecordHeader(TOPIC_HEADER, utf8(sourceTopic)));
        headers.add(new RecordHeader(PARTITION_HEADER, utf8(Integer.toString(sourcePartition))));
        headers.add(new RecordHeader(OFFSET_HEADER, utf8(Long.toString(sourceOffset))));
        if (originalKey != null) {
            headers.add(new RecordHeader(KEY_LENGTH_HEADER, utf8(Integer.toString(originalKey.length()))));
            headers.add(new RecordHeader(KEY_SHA256_HEADER, utf8(originalKey.sha256())));
        }
        if (originalValue != null) {
            headers.add(new RecordHeader(VALUE_LENGTH_HEADER, utf8(Integer.toString(originalValue.length()))));
            headers.add(new RecordHeader(VALUE_SHA256_HEADER, utf8(originalValue.sha256())));
        }
        if (truncated) {
            headers.add(new RecordHeader(TRUNCATED_HEADER, utf8("true")));
        }
        return headers.toArray(Header[]::new);
    }

    /** What the producer checks against max.request.size and the broker against max.message.bytes, uncompressed. */
    private static int framedBytes(byte[] key, byte[] value, Header[] headers) {
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                key, value, headers);
    }

    private static Original original(Headers headers, String lengthHeader, String digestHeader, byte[] held) {
        String length = header(headers, lengthHeader, null);
        String digest = header(headers, digestHeader, null);
        return length == null || digest == null ? Original.of(held) : new Original(Integer.parseInt(length), digest);
    }

    private static String header(Headers headers, String name, String fallback) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null ? fallback : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] emptied(byte[] bytes) {
        return bytes == null ? null : NOTHING;
    }

    private static byte[] prefix(byte[] bytes, int room) {
        return bytes == null || bytes.length <= room ? bytes : Arrays.copyOf(bytes, Math.max(0, room));
    }

    private static String clipped(String reason) {
        if (reason.length() <= MAX_REASON_CHARS) {
            return reason;
        }
        int end = MAX_REASON_CHARS - "...".length();
        if (Character.isHighSurrogate(reason.charAt(end - 1))) {
            end--;
        }
        return reason.substring(0, end) + "...";
    }

    private static int lengthOf(byte[] bytes) {
        return bytes == null ? -1 : bytes.length;
    }

    private static int lengthOf(Original original) {
        return original == null ? -1 : original.length();
    }

    private static String hexSha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform has SHA-256", e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetter other && sourceTopic.equals(other.sourceTopic)
                && sourcePartition == other.sourcePartition && sourceOffset == other.sourceOffset
                && Arrays.equals(key, other.key) && Arrays.equals(value, other.value) && reason.equals(other.reason)
                && Objects.equals(originalKey, other.originalKey) && Objects.equals(originalValue, other.originalValue);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sourceTopic, sourcePartition, sourceOffset, reason, originalValue) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "DeadLetter[" + sourceTopic + "-" + sourcePartition + "@" + sourceOffset + ": " + reason
                + (truncated() ? ", truncated" : "") + "]";
    }
}
