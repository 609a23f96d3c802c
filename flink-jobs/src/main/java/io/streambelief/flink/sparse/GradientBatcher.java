package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.RowGradients;
import io.streambelief.model.record.RowGradient;

/**
 * Groups the row gradients read from {@code embedding-gradients} by the embedding shard that
 * holds their rows, into one {@link RowGradients} per shard when {@link #MAX_GRADIENTS} have
 * gathered, at every tick ({@link #TICK_MILLIS}), before every checkpoint barrier and at the end
 * of input. Nothing is held across a barrier, so it has no state: a gradient read before a
 * checkpoint has reached its shard before it.
 */
public final class GradientBatcher extends AbstractStreamOperator<RowGradients>
        implements OneInputStreamOperator<RowGradient, RowGradients>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    static final int MAX_GRADIENTS = 256;
    static final long TICK_MILLIS = 10;

    private final SparseTraining sparse;
    private transient List<List<RowGradient>> gradients;
    private transient List<List<Long>> created;

    public GradientBatcher(SparseTraining sparse) {
        this.sparse = sparse;
    }

    @Override
    public void open() throws Exception {
        super.open();
        gradients = new ArrayList<>();
        created = new ArrayList<>();
        for (int shard = 0; shard < sparse.embeddingShards(); shard++) {
            gradients.add(new ArrayList<>());
            created.add(new ArrayList<>());
        }
        getProcessingTimeService().scheduleWithFixedDelay(now -> flushAll(), TICK_MILLIS, TICK_MILLIS);
    }

    @Override
    public void processElement(StreamRecord<RowGradient> element) {
        RowGradient gradient = element.getValue();
        int shard = sparse.shardOf(gradient.id());
        gradients.get(shard).add(gradient);
        // The Kafka record's timestamp: when the worker's producer sent it.
        created.get(shard).add(element.hasTimestamp() ? element.getTimestamp() : System.currentTimeMillis());
        if (gradients.get(shard).size() >= MAX_GRADIENTS) {
            flush(shard);
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushAll();
    }

    @Override
    public void endInput() {
        flushAll();
    }

    private void flushAll() {
        for (int shard = 0; shard < gradients.size(); shard++) {
            flush(shard);
        }
    }

    private void flush(int shard) {
        List<RowGradient> pending = gradients.get(shard);
        if (pending.isEmpty()) {
            return;
        }
        long[] times = created.get(shard).stream().mapToLong(Long::longValue).toArray();
        output.collect(new StreamRecord<>(new RowGradients(shard, pending.toArray(RowGradient[]::new), times)));
        pending.clear();
        created.get(shard).clear();
    }
}
