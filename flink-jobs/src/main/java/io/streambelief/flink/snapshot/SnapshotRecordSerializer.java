package io.streambelief.flink.snapshot;

import java.nio.charset.StandardCharsets;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Snapshot chunks and manifests, already encoded, keyed by the model id: one partition holds a
 * model's snapshots in the order they were written.
 */
public final class SnapshotRecordSerializer implements KafkaRecordSerializationSchema<byte[]> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final byte[] key;

    public SnapshotRecordSerializer(String topic, String modelId) {
        this.topic = topic;
        this.key = modelId.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(byte[] record, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, key, record);
    }
}
