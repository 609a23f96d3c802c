package io.streambelief.flink.worker;

import java.nio.charset.StandardCharsets;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.streambelief.kafka.metrics.TrainingMetrics;

public final class TrainingMetricsSerializer implements KafkaRecordSerializationSchema<TrainingMetrics> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public TrainingMetricsSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(TrainingMetrics metrics, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, metrics.model().getBytes(StandardCharsets.UTF_8), metrics.toJson());
    }
}
