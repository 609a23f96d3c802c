package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.ParsedExample;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.flink.io.RowLookup;
import io.streambelief.model.sparse.SparseExample;

/**
 * Forms a sparse model's mini-batches before their rows are looked up, so that a batch costs one
 * lookup and one reply per embedding shard it touches ({@link #lookups}) rather than one of each
 * per id of every example. Subtask i batches what its examples source subtask reads and sends its
 * batches to worker i.
 *
 * <p>A batch is cut when it is full, when no example came for the idle-flush interval (so the last
 * examples of a quiet stream are trained), and at the end of input. The partial batch is part of
 * the checkpoint: an example is in exactly one batch across failures.
 */
public final class LookupBatcher extends AbstractStreamOperator<RowLookup>
        implements OneInputStreamOperator<ParsedExample, RowLookup>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    private static final long TICK_MILLIS = 100;
    private static final SparseExample[] NO_EXAMPLES = new SparseExample[0];

    private final SparseTraining sparse;
    private final int batchSize;
    private final long idleFlushMillis;

    private transient ListState<ParsedExample> pendingState;
    private transient List<ParsedExample> pending;
    private transient long lastExampleMillis;
    private transient Counter lookupsSent;

    public LookupBatcher(TrainingConfig config) {
        this.sparse = config.sparse();
        this.batchSize = config.batchSize();
        this.idleFlushMillis = config.idleFlush().toMillis();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        pendingState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("pending-examples", RecordTypes.PARSED_EXAMPLE));
        pending = new ArrayList<>(batchSize);
        pendingState.get().forEach(pending::add);
    }

    @Override
    public void open() throws Exception {
        super.open();
        lookupsSent = getRuntimeContext().getMetricGroup().counter("rowLookupsSent");
        lastExampleMillis = getProcessingTimeService().getCurrentProcessingTime();
        getProcessingTimeService().scheduleWithFixedDelay(this::onTick, TICK_MILLIS, TICK_MILLIS);
    }

    @Override
    public void processElement(StreamRecord<ParsedExample> element) {
        lastExampleMillis = getProcessingTimeService().getCurrentProcessingTime();
        pending.add(element.getValue());
        if (pending.size() >= batchSize) {
            flush();
        }
    }

    private void onTick(long scheduled) {
        // The time a fixed-delay callback is given is when it was due, which falls ever further
        // behind the clock (measured: ~300 ms), and the idle cut with it.
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (now - lastExampleMillis >= idleFlushMillis) {
            flush();
        }
    }

    @Override
    public void endInput() {
        flush();
    }

    private void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<RowLookup> lookups = lookups(pending, sparse, getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        for (RowLookup lookup : lookups) {
            output.collect(new StreamRecord<>(lookup));
        }
        lookupsSent.inc(lookups.size());
        pending = new ArrayList<>(batchSize);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        pendingState.update(pending);
    }

    /**
     * A batch's lookups: its distinct ids grouped by the shard that holds them, one lookup per
     * shard they touch, the first carrying the examples.
     */
    static List<RowLookup> lookups(List<ParsedExample> batch, SparseTraining sparse, int worker) {
        int shards = sparse.embeddingShards();
        long[][] ids = new long[shards][];
        int[] counts = new int[shards];
        Set<Long> seen = new HashSet<>();
        SparseExample[] examples = new SparseExample[batch.size()];
        for (int i = 0; i < examples.length; i++) {
            examples[i] = batch.get(i).example();
            for (long id : examples[i].ids()) {
                if (seen.add(id)) {
                    int shard = sparse.shardOf(id);
                    if (ids[shard] == null) {
                        ids[shard] = new long[16];
                    } else if (counts[shard] == ids[shard].length) {
                        ids[shard] = Arrays.copyOf(ids[shard], 2 * counts[shard]);
                    }
                    ids[shard][counts[shard]++] = id;
                }
            }
        }
        int parts = 0;
        for (int count : counts) {
            parts += count > 0 ? 1 : 0;
        }
        long batchId = batch.get(0).exampleId();
        List<RowLookup> lookups = new ArrayList<>(parts);
        for (int shard = 0; shard < shards; shard++) {
            if (counts[shard] > 0) {
                lookups.add(new RowLookup(batchId, worker, shard, parts, Arrays.copyOf(ids[shard], counts[shard]),
                        lookups.isEmpty() ? examples : NO_EXAMPLES));
            }
        }
        return lookups;
    }
}
