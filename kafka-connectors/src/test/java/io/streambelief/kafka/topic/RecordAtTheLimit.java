package io.streambelief.kafka.topic;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;

/**
 * A record as large as a topic takes (issue 16): without key and headers, Kafka frames its value
 * in exactly the topic's {@code max.message.bytes}, the most any producer can get through.
 */
public final class RecordAtTheLimit {
    private RecordAtTheLimit() {}

    /** The length of the largest value a topic with record limit {@code limit} takes. */
    public static int valueBytes(int limit) {
        // From below: the length varints of a longer value take up to 8 bytes more than those of an empty one.
        int length = limit - framedBytes(0) - 8;
        while (framedBytes(length + 1) <= limit) {
            length++;
        }
        return length;
    }

    /** A JSON object of {@link #valueBytes} bytes: an example with a long note, as a careless producer might send. */
    public static byte[] json(int limit) {
        String head = "{\"label\": 1, \"features\": [0.5, 0.25], \"note\": \"";
        String tail = "\"}";
        String note = "x".repeat(valueBytes(limit) - head.length() - tail.length());
        return (head + note + tail).getBytes(StandardCharsets.UTF_8);
    }

    private static int framedBytes(int valueLength) {
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                null, new byte[valueLength], new Header[0]);
    }
}
