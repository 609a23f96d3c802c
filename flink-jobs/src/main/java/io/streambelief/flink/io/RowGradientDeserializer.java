package io.streambelief.flink.io;

import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.model.record.RecordFormatException;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowGradient;

/** Reads one model's row gradients from {@code embedding-gradients}; other models' and undecodable records are skipped. */
public final class RowGradientDeserializer implements KafkaRecordDeserializationSchema<RowGradient> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RowGradientDeserializer.class);

    private final byte[] modelPrefix;

    public RowGradientDeserializer(String modelId) {
        this.modelPrefix = (modelId + "/").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RowGradient> out) {
        if (!RowCodecs.isGradientKeyOf(record.key(), modelPrefix) || record.value() == null) {
            return;
        }
        try {
            out.collect(RowCodecs.decodeGradient(record.value()));
        } catch (RecordFormatException e) {
            LOG.warn("Skipping row gradient at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
        }
    }

    @Override
    public TypeInformation<RowGradient> getProducedType() {
        return RecordTypes.ROW_GRADIENT;
    }
}
