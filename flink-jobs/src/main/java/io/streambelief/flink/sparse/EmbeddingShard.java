package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.RowGradients;
import io.streambelief.flink.io.RowLookup;
import io.streambelief.flink.io.RowLookupReply;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.sparse.EmbeddingTable;

/**
 * The parameter server of the sparse part: one key per feature id, the id's row in RocksDB
 * state. Input 1 are a mini-batch's lookups of the ids this subtask holds (answered with one reply
 * of their rows, or of the rows a first gradient would create), input 2 the row gradients coming
 * back through {@code embedding-gradients}, grouped by shard as lookups are ({@link GradientBatcher}).
 *
 * <p>Lookups and gradients are routed here by {@link SparseTraining#shardOf}, which names the
 * subtask Flink's {@code keyBy(id)} would, and each id's row is read under that id as the current key: the state
 * is the same as if every id had come keyed on its own, and an id routed to the wrong subtask
 * fails the task rather than writing a row no checkpoint could restore to its place.
 *
 * <p>A row is created lazily, by its first gradient, from the table's deterministic initial value
 * — a lookup of an id without a row computes that value without storing it, so ids that are only
 * read cost no write. With {@code minCount > 1} an id is admitted only at its minCount-th
 * sighting: until then it reads as the zero row and its gradients are dropped (counted). With a
 * TTL, rows (and sighting counts) untouched by gradients for that long disappear: Flink state TTL,
 * cleaned by RocksDB's compaction filter, never returned once expired.
 *
 * <p>Each row counts the examples whose gradients it holds and keeps their digest (sum and xor of
 * their hashes), which is what the exactly-once test compares with the examples fed. Updated rows
 * are published at most once per publish interval with their latest value: an update notes the
 * row's new lookup in a map of dirty rows, flushed at the next interval boundary and right before
 * every checkpoint barrier, so no update that a checkpoint holds goes unpublished (even if the job
 * fails before the next interval) and publishing costs no second read of the row.
 */
public final class EmbeddingShard extends AbstractStreamOperator<RowLookupReply>
        implements TwoInputStreamOperator<RowLookup, RowGradients, RowLookupReply> {
    private static final long serialVersionUID = 1L;

    /** Rows to publish to {@code embedding-rows}. */
    public static final OutputTag<RowUpdate> ROW_UPDATES = new OutputTag<>("row-updates", TypeInformation.of(RowUpdate.class));

    private final String modelId;
    private final SparseTraining sparse;
    private final long publishMillis;
    private transient EmbeddingTable table;
    private transient ValueState<byte[]> rows;
    private transient ValueState<Integer> sightings;
    private transient Counter rowsCreated;
    private transient Counter rowUpdates;
    private transient Counter lookupCount;
    private transient Counter notAdmitted;
    private transient Counter nonFinite;
    private transient Counter malformed;
    /** Rows updated since the last publication, by id, with their new lookup. */
    private transient Map<Long, Dirty> dirty;
    /** Milliseconds from a row's oldest unpublished gradient's creation to the row's publication. */
    private transient Histogram rowLag;
    private transient KeyGroupRange keyGroups;
    private transient int maxParallelism;

    public EmbeddingShard(String modelId, SparseTraining sparse, long publishMillis) {
        this.modelId = modelId;
        this.sparse = sparse;
        this.publishMillis = publishMillis;
    }

    @Override
    public void open() throws Exception {
        super.open();
        table = sparse.table();
        ValueStateDescriptor<byte[]> rowDescriptor =
                new ValueStateDescriptor<>("rows", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        ValueStateDescriptor<Integer> sightingDescriptor = new ValueStateDescriptor<>("sightings", Types.INT);
        if (sparse.rowTtl() != null) {
            StateTtlConfig ttl = StateTtlConfig.newBuilder(sparse.rowTtl())
                    .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .cleanupInRocksdbCompactFilter(1000)
                    .build();
            rowDescriptor.enableTimeToLive(ttl);
            sightingDescriptor.enableTimeToLive(ttl);
        }
        rows = getRuntimeContext().getState(rowDescriptor);
        sightings = getRuntimeContext().getState(sightingDescriptor);
        var metrics = getRuntimeContext().getMetricGroup();
        rowsCreated = metrics.counter("rowsCreated");
        rowUpdates = metrics.counter("rowUpdates");
        lookupCount = metrics.counter("rowLookups");
        notAdmitted = metrics.counter("gradientsNotAdmitted");
        nonFinite = metrics.counter("gradientsNonFinite");
        malformed = metrics.counter("gradientsMalformed");
        rowLag = metrics.histogram("rowLagMs", new DescriptiveStatisticsHistogram(10_000));
        dirty = new LinkedHashMap<>();
        var task = getRuntimeContext().getTaskInfo();
        maxParallelism = task.getMaxNumberOfParallelSubtasks();
        keyGroups = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(maxParallelism,
                task.getNumberOfParallelSubtasks(), task.getIndexOfThisSubtask());
    }

    @Override
    public void processElement1(StreamRecord<RowLookup> element) throws Exception {
        RowLookup request = element.getValue();
        long[] ids = request.ids();
        int width = table.lookupWidth();
        float[] lookups = new float[ids.length * width];
        for (int i = 0; i < ids.length; i++) {
            selectRow(ids[i]);
            byte[] stored = rows.value();
            float[] lookup;
            if (stored != null) {
                lookup = table.lookup(StoredRow.decode(stored, table.storedWidth()).floats());
            } else if (admit()) {
                lookup = table.lookup(table.newRow(ids[i]));
            } else {
                continue; // read as the zero row
            }
            System.arraycopy(lookup, 0, lookups, i * width, width);
        }
        lookupCount.inc(ids.length);
        output.collect(new StreamRecord<>(new RowLookupReply(request.batchId(), request.worker(), request.parts(), ids,
                lookups, request.examples())));
    }

    /** Makes {@code id} the current key, refusing one whose key group another subtask holds. */
    private void selectRow(long id) {
        int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(id, maxParallelism);
        if (!keyGroups.contains(keyGroup)) {
            throw new IllegalStateException("Row " + id + " (key group " + keyGroup + ") was routed to the embedding"
                    + " shard holding key groups " + keyGroups + ": the job's embedding-shard parallelism or maximum"
                    + " parallelism differs from the one its lookups were routed for");
        }
        setCurrentKey(id);
    }

    /** Counts a sighting of an id without a row; whether it has been seen minCount times now. */
    private boolean admit() throws Exception {
        if (sparse.minCount() <= 1) {
            return true;
        }
        Integer seen = sightings.value();
        int count = seen == null ? 1 : seen + 1;
        if (seen == null || seen < sparse.minCount()) {
            sightings.update(count);
        }
        return count >= sparse.minCount();
    }

    @Override
    public void processElement2(StreamRecord<RowGradients> element) throws Exception {
        RowGradients batch = element.getValue();
        for (int i = 0; i < batch.gradients().length; i++) {
            selectRow(batch.gradients()[i].id());
            apply(batch.gradients()[i], batch.createdMillis()[i]);
        }
    }

    /** Applies one gradient, created at {@code created}, to its row, the current key. */
    private void apply(RowGradient gradient, long created) throws Exception {
        // embedding-gradients is a topic anyone with access can write to: a record of another width
        // would fail the optimizer (and the task, again at every replay), one of no examples would
        // corrupt the row's count.
        if (gradient.values().length != table.lookupWidth() || gradient.examples().count() < 1) {
            malformed.inc();
            return;
        }
        for (float g : gradient.values()) {
            if (!Float.isFinite(g)) {
                nonFinite.inc();
                return;
            }
        }
        byte[] stored = rows.value();
        float[] row;
        ExampleDigest examples;
        if (stored != null) {
            StoredRow decoded = StoredRow.decode(stored, table.storedWidth());
            examples = decoded.examples();
            row = decoded.floats();
        } else {
            if (sparse.minCount() > 1) {
                Integer seen = sightings.value();
                if (seen == null || seen < sparse.minCount()) {
                    notAdmitted.inc();
                    return;
                }
                sightings.clear();
            }
            row = table.newRow(gradient.id());
            examples = ExampleDigest.EMPTY;
            rowsCreated.inc();
        }
        table.apply(row, gradient.values(), 0);
        examples = examples.plus(gradient.examples());
        rows.update(new StoredRow(examples, row).encode());
        rowUpdates.inc();
        if (dirty.isEmpty()) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            getProcessingTimeService().registerTimer((now / publishMillis + 1) * publishMillis, time -> publish());
        }
        RowUpdate update = new RowUpdate(modelId, gradient.id(), examples, 0, table.lookup(row));
        dirty.merge(gradient.id(), new Dirty(update, created),
                (older, newer) -> new Dirty(newer.update, Math.min(older.oldestGradientMillis, created)));
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        publish();
    }

    private void publish() {
        for (RowUpdate update : drain()) {
            output.collect(ROW_UPDATES, new StreamRecord<>(update));
        }
    }

    /** The rows updated since the last publication, stamped now, and forgets them. */
    /** A row to publish: its new value, and when the oldest gradient it holds since its last publication was created. */
    private record Dirty(RowUpdate update, long oldestGradientMillis) {}

    /** Milliseconds from a row's oldest unpublished gradient's creation to the row's publication. */
    Histogram rowLag() {
        return rowLag;
    }

    private List<RowUpdate> drain() {
        long now = System.currentTimeMillis();
        List<RowUpdate> updates = new ArrayList<>(dirty.size());
        for (Dirty row : dirty.values()) {
            updates.add(row.update.stampedAt(now));
            rowLag.update(Math.max(0, now - row.oldestGradientMillis));
        }
        dirty.clear();
        return updates;
    }
}
