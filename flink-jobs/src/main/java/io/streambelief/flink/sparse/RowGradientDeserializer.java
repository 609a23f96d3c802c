package io.streambelief.flink.sparse;

import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.io.LoggedRowGradient;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowGradient;

/**
 * Reads one model's row gradients from {@code embedding-gradients}, each with its place in the
 * log; other models' and undecodable records are skipped.
 */
public final class RowGradientDeserializer implements KafkaRecordDeserializationSchema<LoggedRowGradient> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RowGradientDeserializer.class);

    /** Records skipped because they do not decode; null outside a Flink source (no metrics there). */
    private transient Counter unreadable;

    private final byte[] modelPrefix;

    public RowGradientDeserializer(String modelId) {
        this.modelPrefix = (modelId + "/").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        unreadable = context.getMetricGroup().counter("unreadableRowGradients");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<LoggedRowGradient> out) {
        if (!RowCodecs.isGradientKeyOf(record.key(), modelPrefix) || record.value() == null) {
            return;
        }
        RowGradient gradient;
        try {
            gradient = RowCodecs.decodeGradient(record.value());
        } catch (RuntimeException e) {
            // Whatever a record holds (a codec error, a value a constructor refuses), it costs that record alone.
            LOG.warn("Skipping row gradient at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            if (unreadable != null) {
                unreadable.inc();
            }
            return;
        }
        out.collect(new LoggedRowGradient(record.partition(), record.offset(), gradient));
    }

    @Override
    public TypeInformation<LoggedRowGradient> getProducedType() {
        return RecordTypes.LOGGED_ROW_GRADIENT;
    }
}
