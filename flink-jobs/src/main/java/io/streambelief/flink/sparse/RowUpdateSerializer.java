package io.streambelief.flink.sparse;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowUpdate;

/** A row's latest value keyed {@code <modelId>/rows/<id>}, so compaction keeps the latest of each row. */
public final class RowUpdateSerializer implements KafkaRecordSerializationSchema<RowUpdate> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public RowUpdateSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(RowUpdate update, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, update.timestampMillis(), RowCodecs.updateKey(update.modelId(), update.id()),
                RowCodecs.encode(update));
    }
}
