package io.streambelief.flink.parse;

import org.apache.flink.util.Collector;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.record.ModelUpdate;
import io.streambelief.model.record.ModelUpdateCodec;

/**
 * Turns records of {@code client-updates} into model updates; one that is not an update of this
 * model's size with finite values goes to the dead-letter topic with its reason, so NaN or Inf
 * never reaches the aggregate. Updates of other models sharing the topic are passed over.
 */
public final class ParseModelUpdates extends ParseRecords<ModelUpdate, ModelUpdate> {
    private static final long serialVersionUID = 1L;

    private final String modelId;
    private final long numParams;
    private final int maxBytes;

    public ParseModelUpdates(String modelId, long numParams, int maxBytes) {
        this.modelId = modelId;
        this.numParams = numParams;
        this.maxBytes = maxBytes;
    }

    @Override
    ModelUpdate parse(byte[] value) throws MalformedExampleException {
        if (value == null || value.length == 0) {
            throw new MalformedExampleException("empty record");
        }
        if (value.length > maxBytes) {
            throw new MalformedExampleException("record is " + value.length + " bytes, the limit is " + maxBytes);
        }
        ModelUpdate update;
        try {
            update = ModelUpdateCodec.decode(value);
        } catch (IllegalArgumentException e) { // a RecordFormatException, or a field out of range
            throw new MalformedExampleException("not a model update: " + e.getMessage());
        }
        if (update.modelId().equals(modelId)) {
            if (update.delta().length != numParams) {
                throw new MalformedExampleException("update of " + update.delta().length + " values, the model has "
                        + numParams);
            }
            if (!update.isFinite()) {
                throw new MalformedExampleException("update from " + update.clientId() + " has a value that is not finite");
            }
        }
        return update;
    }

    @Override
    void emit(RawRecord record, ModelUpdate update, Collector<ModelUpdate> out) {
        if (update.modelId().equals(modelId)) {
            out.collect(update);
        }
    }
}
