package io.streambelief.flink.sparse;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
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
 *
 * <p><b>Fresh rows.</b> Only committed gradients (read read_committed) change the rows' state, so
 * that a failure, which aborts the uncommitted ones and replays their examples, cannot count an
 * example twice. With fresh rows the shard also reads every gradient as soon as it is written and
 * keeps, in memory only, the <em>speculative</em> row of each id with gradients still uncommitted:
 * its stored row with those gradients applied in log order, which is what the stored row will be
 * once they commit. Lookups and publication read the speculative row where there is one, so a
 * gradient reaches the next batch and serving within milliseconds instead of a checkpoint
 * interval. A committed gradient settles the ones pending before it at the same row: the one
 * at its own offset is the gradient the speculative row already holds; earlier ones will never be
 * committed (the log is read in order), so the speculative row is rebuilt on the stored one without
 * them. Nothing speculative is in a checkpoint: after a restore the shard starts without it and
 * takes no gradient written before it opened as fresh (the failed attempt's, whose transactions
 * are aborted), and a pending gradient nothing settled within {@link #SETTLE_CHECKPOINTS}
 * completed checkpoints is dropped; at most {@link #MAX_SPECULATIVE_ROWS} rows are speculative.
 * The exactly-once accounting rests on the stored rows alone.
 */
public final class EmbeddingShard extends AbstractStreamOperator<RowLookupReply>
        implements TwoInputStreamOperator<RowLookup, RowGradients, RowLookupReply> {
    private static final long serialVersionUID = 1L;

    /**
     * Completed checkpoints after which a speculative row whose pending gradients none settled is
     * dropped: a gradient is committed by the second checkpoint after it was written at the latest.
     */
    static final int SETTLE_CHECKPOINTS = 4;

    /**
     * Speculative rows a shard keeps at most: when the committed reading falls far behind (a
     * backlog, a slow checkpoint), fresh gradients of rows not yet speculative are skipped rather
     * than let the heap grow with the backlog; those rows then follow their commits.
     */
    static final int MAX_SPECULATIVE_ROWS = 100_000;

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
    /** Rows with gradients read ahead of their commit, by id. Not part of any checkpoint. */
    private transient Map<Long, Speculative> speculative;
    /** Per partition of embedding-gradients, the offset of the last committed gradient read. */
    private transient Map<Integer, Long> committedThrough;
    private transient long openedMillis;
    private transient long completedCheckpoints;
    private transient Counter freshApplied;
    private transient Counter freshSkipped;
    private transient Counter freshDropped;

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
        freshApplied = metrics.counter("freshGradientsApplied");
        freshSkipped = metrics.counter("freshGradientsSkipped");
        freshDropped = metrics.counter("freshGradientsDropped");
        dirty = new LinkedHashMap<>();
        speculative = new HashMap<>();
        committedThrough = new HashMap<>();
        metrics.gauge("speculativeRows", () -> speculative.size());
        // Gradients written before this moment are a failed attempt's (aborted) or already in the
        // restored rows: neither is fresh.
        openedMillis = System.currentTimeMillis();
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
            Speculative ahead = speculative.get(ids[i]);
            byte[] stored = ahead == null ? rows.value() : null;
            float[] lookup;
            if (ahead != null) {
                lookup = table.lookup(ahead.row);
            } else if (stored != null) {
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
            RowGradient gradient = batch.gradients()[i];
            selectRow(gradient.id());
            if (batch.committed()) {
                committedThrough.merge(batch.partitions()[i], batch.offsets()[i], Math::max);
                settle(gradient, apply(gradient), batch.offsets()[i], batch.createdMillis()[i]);
            } else {
                applyFresh(gradient, batch.createdMillis()[i], batch.partitions()[i], batch.offsets()[i]);
            }
        }
    }

    /**
     * Applies one committed gradient to its row, the current key.
     *
     * @return the row as stored now, or null if the gradient was refused
     */
    private StoredRow apply(RowGradient gradient) throws Exception {
        if (!isWellFormed(gradient)) {
            malformed.inc();
            return null;
        }
        if (!isFinite(gradient)) {
            nonFinite.inc();
            return null;
        }
        byte[] stored = rows.value();
        if (stored == null) {
            if (!admitted()) {
                notAdmitted.inc();
                return null;
            }
            if (sparse.minCount() > 1) {
                sightings.clear();
            }
            rowsCreated.inc();
        }
        StoredRow current = storedOrNew(stored, gradient.id());
        float[] row = current.floats();
        table.apply(row, gradient.values(), 0);
        StoredRow updated = new StoredRow(current.examples().plus(gradient.examples()), row);
        rows.update(updated.encode());
        rowUpdates.inc();
        return updated;
    }

    /**
     * Whether a gradient has the table's width and holds examples: embedding-gradients is a topic
     * anyone with access can write to, and a record of another width would fail the optimizer
     * (and the task, again at every replay), one of no examples would corrupt the row's count.
     */
    private boolean isWellFormed(RowGradient gradient) {
        return gradient.values().length == table.lookupWidth() && gradient.examples().count() >= 1;
    }

    /** Whether the current id, which has no row, has been seen minCount times (counts no sighting). */
    private boolean admitted() throws Exception {
        if (sparse.minCount() <= 1) {
            return true;
        }
        Integer seen = sightings.value();
        return seen != null && seen >= sparse.minCount();
    }

    /**
     * Settles the current row's speculative gradients up to a committed one at {@code offset}
     * (stored now as {@code stored}, or refused if null), and publishes the row if what lookups
     * see of it changed.
     */
    private void settle(RowGradient gradient, StoredRow stored, long offset, long created) throws Exception {
        Speculative ahead = speculative.get(gradient.id());
        if (ahead == null) {
            if (stored != null) {
                markDirty(gradient.id(), stored.examples(), stored.floats(), created);
            }
            return;
        }
        boolean held = false;
        boolean aborted = false;
        while (!ahead.pending.isEmpty() && ahead.pending.peekFirst().offset() <= offset) {
            if (ahead.pending.pollFirst().offset() == offset) {
                held = true;
            } else {
                aborted = true;
            }
        }
        if (ahead.pending.isEmpty()) {
            speculative.remove(gradient.id());
        }
        if (held && !aborted && stored != null) {
            return; // the speculative row already showed this gradient, and only it
        }
        // The speculative row held a gradient that will never be committed, or lacked this one:
        // rebuilt on the stored row from the gradients still pending.
        StoredRow base = stored != null ? stored : storedOrNew(rows.value(), gradient.id());
        float[] row = base.floats().clone();
        ExampleDigest examples = base.examples();
        for (Pending pending : ahead.pending) {
            table.apply(row, pending.gradient().values(), 0);
            examples = examples.plus(pending.gradient().examples());
        }
        if (!ahead.pending.isEmpty()) {
            ahead.row = row;
            ahead.examples = examples;
        }
        markDirty(gradient.id(), examples, row, created);
    }

    /** Shows a gradient read ahead of its commit on the current row's speculative row, if it may be. */
    private void applyFresh(RowGradient gradient, long created, int partition, long offset) throws Exception {
        // Written before this shard opened, or at or before a committed gradient already read:
        // either in the stored rows already, or never to be committed.
        if (created < openedMillis || offset <= committedThrough.getOrDefault(partition, -1L)
                || !isWellFormed(gradient) || !isFinite(gradient)) {
            freshSkipped.inc();
            return;
        }
        Speculative ahead = speculative.get(gradient.id());
        if (ahead == null) {
            if (speculative.size() >= MAX_SPECULATIVE_ROWS) {
                freshSkipped.inc();
                return;
            }
            byte[] stored = rows.value();
            if (stored == null && !admitted()) {
                freshSkipped.inc();
                return;
            }
            StoredRow base = storedOrNew(stored, gradient.id());
            ahead = new Speculative(base.floats(), base.examples());
            speculative.put(gradient.id(), ahead);
        }
        table.apply(ahead.row, gradient.values(), 0);
        ahead.examples = ahead.examples.plus(gradient.examples());
        ahead.pending.addLast(new Pending(offset, gradient));
        ahead.touchedAt = completedCheckpoints;
        freshApplied.inc();
        markDirty(gradient.id(), ahead.examples, ahead.row, created);
    }

    /** The row {@code stored} holds, or the new row of {@code id} if it is null. */
    private StoredRow storedOrNew(byte[] stored, long id) {
        return stored != null ? StoredRow.decode(stored, table.storedWidth())
                : new StoredRow(ExampleDigest.EMPTY, table.newRow(id));
    }

    private static boolean isFinite(RowGradient gradient) {
        for (float g : gradient.values()) {
            if (!Float.isFinite(g)) {
                return false;
            }
        }
        return true;
    }

    /** Notes a row's new value for the next publication, which it holds gradients created since {@code created}. */
    private void markDirty(long id, ExampleDigest examples, float[] row, long created) {
        if (dirty.isEmpty()) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            getProcessingTimeService().registerTimer((now / publishMillis + 1) * publishMillis, time -> publish());
        }
        RowUpdate update = new RowUpdate(modelId, id, examples, 0, table.lookup(row));
        dirty.merge(id, new Dirty(update, created),
                (older, newer) -> new Dirty(newer.update, Math.min(older.oldestGradientMillis, created)));
    }

    /**
     * Drops the speculative rows whose pending gradients nothing settled for
     * {@link #SETTLE_CHECKPOINTS} checkpoints (a lost race with a restore, a committed reading far
     * behind), publishing their stored rows instead.
     */
    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        completedCheckpoints++;
        List<Long> stale = new ArrayList<>();
        speculative.forEach((id, ahead) -> {
            if (completedCheckpoints - ahead.touchedAt > SETTLE_CHECKPOINTS) {
                stale.add(id);
            }
        });
        long now = System.currentTimeMillis();
        for (long id : stale) {
            freshDropped.inc(speculative.remove(id).pending.size());
            selectRow(id);
            StoredRow stored = storedOrNew(rows.value(), id);
            markDirty(id, stored.examples(), stored.floats(), now);
        }
    }

    /** A row with gradients read ahead of their commit: its value with them, and them in log order. */
    private static final class Speculative {
        float[] row;
        ExampleDigest examples;
        final ArrayDeque<Pending> pending = new ArrayDeque<>();
        long touchedAt;

        Speculative(float[] row, ExampleDigest examples) {
            this.row = row;
            this.examples = examples;
        }
    }

    /** A gradient read ahead of its commit, at its offset of embedding-gradients. */
    private record Pending(long offset, RowGradient gradient) {}

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
            updates.add(row.update.stampedAt(now, row.oldestGradientMillis));
            rowLag.update(Math.max(0, now - row.oldestGradientMillis));
        }
        dirty.clear();
        return updates;
    }
}
