package io.streambelief.flink.io;

import java.nio.charset.StandardCharsets;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

/** A shard's values keyed {@code <modelId>/<shard>}, so compaction keeps the latest of each shard. */
public final class ParamUpdateSerializer implements KafkaRecordSerializationSchema<ParamUpdate> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public ParamUpdateSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ParamUpdate update, KafkaSinkContext context, Long timestamp) {
        byte[] key = ModelIds.shardKey(update.modelId(), update.shardId()).getBytes(StandardCharsets.UTF_8);
        return new ProducerRecord<>(topic, null, update.timestampMillis(), key, ParamUpdateCodec.encode(update));
    }
}
