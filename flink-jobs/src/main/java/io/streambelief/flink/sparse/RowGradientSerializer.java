package io.streambelief.flink.sparse;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowGradient;

/** Row gradients keyed by model and id, so that every gradient of a row lands on the same partition. */
public final class RowGradientSerializer implements KafkaRecordSerializationSchema<RowGradient> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final String modelId;

    public RowGradientSerializer(String topic, String modelId) {
        this.topic = topic;
        this.modelId = modelId;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(RowGradient gradient, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, RowCodecs.gradientKey(modelId, gradient.id()), RowCodecs.encode(gradient));
    }
}
