package io.streambelief.flink.io;

import java.nio.charset.StandardCharsets;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamDeltaCodec;

/** A shard's delta keyed by its model id, so that the workers of other models skip it without decoding it. */
public final class ParamDeltaSerializer implements KafkaRecordSerializationSchema<ParamDelta> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public ParamDeltaSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ParamDelta delta, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, delta.timestampMillis(),
                delta.modelId().getBytes(StandardCharsets.UTF_8), ParamDeltaCodec.encode(delta));
    }
}
