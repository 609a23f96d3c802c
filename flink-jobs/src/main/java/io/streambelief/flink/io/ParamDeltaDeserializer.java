package io.streambelief.flink.io;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamDeltaCodec;

/**
 * Reads one model's deltas from {@code model-param-deltas} for the workers: other models' are
 * skipped by key; one that does not decode is logged and skipped (the shard's next full delta
 * repairs what it would have carried), so a bad record can never stop training.
 */
public final class ParamDeltaDeserializer implements KafkaRecordDeserializationSchema<ParamDelta> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ParamDeltaDeserializer.class);

    /** Records skipped because they do not decode; null outside a Flink source (no metrics there). */
    private transient Counter unreadable;

    private final String modelId;
    private final byte[] key;

    public ParamDeltaDeserializer(String modelId) {
        this.modelId = modelId;
        this.key = modelId.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        unreadable = context.getMetricGroup().counter("unreadableParamDeltas");
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ParamDelta> out) {
        if (record.value() == null || !Arrays.equals(record.key(), key)) {
            return;
        }
        ParamDelta delta;
        try {
            delta = ParamDeltaCodec.decode(record.value());
        } catch (RuntimeException e) {
            // Whatever a record holds (a codec error, a value a constructor refuses), it costs that record alone.
            LOG.warn("Skipping record at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
            if (unreadable != null) {
                unreadable.inc();
            }
            return;
        }
        if (delta.modelId().equals(modelId)) {
            out.collect(delta);
        }
    }

    @Override
    public TypeInformation<ParamDelta> getProducedType() {
        return RecordTypes.PARAM_DELTA;
    }
}
