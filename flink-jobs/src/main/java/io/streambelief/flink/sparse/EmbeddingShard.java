package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.io.RowReply;
import io.streambelief.flink.io.RowRequest;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.sparse.EmbeddingTable;

/**
 * The parameter server of the sparse part: one key per feature id, the id's row in RocksDB
 * state. Input 1 are lookups (answered with the row, or with the row a first gradient would
 * create), input 2 the row gradients coming back through {@code embedding-gradients}.
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
 * row's new lookup in a map of dirty rows, flushed at the next interval boundary (one timer per
 * interval, whichever key sets it) and before every checkpoint barrier
 * ({@link EmbeddingShardOperator}), so no update that a checkpoint holds goes unpublished and
 * publishing costs no second read of the row.
 */
public final class EmbeddingShard extends KeyedCoProcessFunction<Long, RowRequest, RowGradient, RowReply> {
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
    private transient Counter lookups;
    private transient Counter notAdmitted;
    private transient Counter nonFinite;
    private transient Counter malformed;
    /** Rows updated since the last publication, by id, with their new lookup. */
    private transient Map<Long, RowUpdate> dirty;

    public EmbeddingShard(String modelId, SparseTraining sparse, long publishMillis) {
        this.modelId = modelId;
        this.sparse = sparse;
        this.publishMillis = publishMillis;
    }

    @Override
    public void open(OpenContext context) {
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
        lookups = metrics.counter("rowLookups");
        notAdmitted = metrics.counter("gradientsNotAdmitted");
        nonFinite = metrics.counter("gradientsNonFinite");
        malformed = metrics.counter("gradientsMalformed");
        dirty = new LinkedHashMap<>();
    }

    @Override
    public void processElement1(RowRequest request, Context context, Collector<RowReply> out) throws Exception {
        lookups.inc();
        byte[] stored = rows.value();
        float[] lookup;
        if (stored != null) {
            lookup = table.lookup(StoredRow.decode(stored, table.storedWidth()).floats());
        } else if (admit()) {
            lookup = table.lookup(table.newRow(request.id()));
        } else {
            lookup = null;
        }
        out.collect(new RowReply(request.id(), request.exampleId(), request.worker(), request.slot(), lookup,
                request.example()));
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
    public void processElement2(RowGradient gradient, Context context, Collector<RowReply> out) throws Exception {
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
            long now = context.timerService().currentProcessingTime();
            context.timerService().registerProcessingTimeTimer((now / publishMillis + 1) * publishMillis);
        }
        dirty.put(gradient.id(), new RowUpdate(modelId, gradient.id(), examples, 0, table.lookup(row)));
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext context, Collector<RowReply> out) {
        for (RowUpdate update : drain()) {
            context.output(ROW_UPDATES, update);
        }
    }

    /** The rows updated since the last publication, stamped now, and forgets them. */
    List<RowUpdate> drain() {
        long now = System.currentTimeMillis();
        List<RowUpdate> updates = new ArrayList<>(dirty.size());
        for (RowUpdate update : dirty.values()) {
            updates.add(update.stampedAt(now));
        }
        dirty.clear();
        return updates;
    }
}
