package io.streambelief.flink.io;

import java.nio.charset.StandardCharsets;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

/**
 * Reads one model's shard records from {@code model-params} for the workers: other models'
 * records, the model definition and tombstones are skipped; a record that does not decode is
 * logged and skipped, so a bad record on the feedback topic can never stop training. The values'
 * moving average is dropped here: it is for serving, and the workers' parameter feed is the
 * bandwidth the whole feedback loop waits on.
 */
public final class ParamUpdateDeserializer implements KafkaRecordDeserializationSchema<ParamUpdate> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ParamUpdateDeserializer.class);

    /** Records skipped because they do not decode; null outside a Flink source (no metrics there). */
    private transient Counter unreadable;

    private final String modelId;
    private final String keyPrefix;

    public ParamUpdateDeserializer(String modelId) {
        this.modelId = modelId;
        this.keyPrefix = modelId + "/";
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        unreadable = context.getMetricGroup().counter("unreadableParamUpdates");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ParamUpdate> out) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        String key = new String(record.key(), StandardCharsets.UTF_8);
        if (!key.startsWith(keyPrefix) || key.equals(ModelIds.definitionKey(modelId))) {
            return;
        }
        ParamUpdate update;
        try {
            update = ParamUpdateCodec.decode(record.value());
        } catch (RuntimeException e) {
            // Whatever a record holds (a codec error, a value a constructor refuses), it costs that record alone.
            LOG.warn("Skipping record {} at {}-{}@{}: {}", key, record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            if (unreadable != null) {
                unreadable.inc();
            }
            return;
        }
        if (update.modelId().equals(modelId)) {
            out.collect(update.withoutAverage());
        }
    }

    @Override
    public TypeInformation<ParamUpdate> getProducedType() {
        return RecordTypes.PARAM_UPDATE;
    }
}
