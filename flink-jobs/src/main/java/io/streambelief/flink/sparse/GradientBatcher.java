package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.List;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.LoggedRowGradient;
import io.streambelief.flink.io.RowGradients;
import io.streambelief.model.record.RowGradient;

/**
 * Groups the row gradients read from {@code embedding-gradients} by the embedding shard that
 * holds their rows, into one {@link RowGradients} per shard when {@link #MAX_GRADIENTS} have
 * gathered, at every tick ({@link #TICK_MILLIS}), before every checkpoint barrier and at the end
 * of input. Nothing is held across a barrier, so it has no state: a gradient read before a
 * checkpoint has reached its shard before it. One batcher reads the committed gradients, another
 * (for fresh rows) the same log as soon as it is written; {@code committed} says which.
 */
public final class GradientBatcher extends AbstractStreamOperator<RowGradients>
        implements OneInputStreamOperator<LoggedRowGradient, RowGradients>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    static final int MAX_GRADIENTS = 256;
    static final long TICK_MILLIS = 10;

    private final SparseTraining sparse;
    private final boolean committed;
    private transient List<List<LoggedRowGradient>> gradients;
    private transient List<List<Long>> created;

    public GradientBatcher(SparseTraining sparse, boolean committed) {
        this.sparse = sparse;
        this.committed = committed;
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
    public void processElement(StreamRecord<LoggedRowGradient> element) {
        LoggedRowGradient gradient = element.getValue();
        int shard = sparse.shardOf(gradient.gradient().id());
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
        List<LoggedRowGradient> pending = gradients.get(shard);
        if (pending.isEmpty()) {
            return;
        }
        int n = pending.size();
        RowGradient[] values = new RowGradient[n];
        int[] partitions = new int[n];
        long[] offsets = new long[n];
        for (int i = 0; i < n; i++) {
            values[i] = pending.get(i).gradient();
            partitions[i] = pending.get(i).partition();
            offsets[i] = pending.get(i).offset();
        }
        long[] times = created.get(shard).stream().mapToLong(Long::longValue).toArray();
        output.collect(new StreamRecord<>(new RowGradients(shard, committed, values, times, partitions, offsets)));
        pending.clear();
        created.get(shard).clear();
    }
}
