package io.streambelief.flink.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.SparseDefinition;
import io.streambelief.model.sparse.WideDeepSpec;

/**
 * What a sparse (wide &amp; deep) training job adds to a dense one: the schema that turns records
 * into ids, the model, the embedding table, and how rows are kept — on how many
 * {@code EmbeddingShard} subtasks, admitted after how many sightings, expired after how long
 * untouched.
 *
 * @param embeddingShards parallelism of the embedding-shard operator
 * @param minCount sightings of an id before it gets a row (1: at once); until then it reads as the zero row
 * @param rowTtl rows untouched for this long disappear (Flink state TTL, RocksDB compaction filter); null: never
 * @param freshRows whether lookups and published rows show row gradients as soon as they are
 *     written, ahead of the checkpoint that commits them to the rows' state
 */
public record SparseTraining(FeatureSchema schema, WideDeepSpec model, EmbeddingTable table, int embeddingShards,
        int minCount, Duration rowTtl, boolean freshRows) implements Serializable {

    public static final int DEFAULT_MIN_COUNT = 1;

    /** What {@code --embedding-shards} means by default: as many embedding shards as workers. */
    public static final int AS_MANY_AS_WORKERS = 0;

    /**
     * The embedding shards' maximum parallelism, fixed for good: lookups are routed to the subtask
     * that holds an id's key group ({@link #shardOf}), and a checkpoint restores only into the
     * number of key groups it was taken with. 128 is what Flink chose by default for the shards
     * of earlier releases, so their checkpoints keep their key groups.
     */
    public static final int MAX_EMBEDDING_SHARDS = 128;

    public SparseTraining {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(table, "table");
        if (embeddingShards < 1 || embeddingShards > MAX_EMBEDDING_SHARDS) {
            throw new IllegalArgumentException("embedding shards must be 1.." + MAX_EMBEDDING_SHARDS + ", got "
                    + embeddingShards);
        }
        if (minCount < 1) {
            throw new IllegalArgumentException("minCount must be at least 1, got " + minCount);
        }
        if (rowTtl != null && (rowTtl.isNegative() || rowTtl.isZero())) {
            throw new IllegalArgumentException("row TTL must be positive (or absent: rows never expire), got " + rowTtl);
        }
        if (model.dim() != table.dim()) {
            throw new IllegalArgumentException("Model " + model + " and table " + table + " disagree on the dimension");
        }
    }

    /** The defaults for {@code schema} and {@code model}: FTRL wide, Adagrad deep, rows kept forever. */
    public static SparseTraining of(FeatureSchema schema, WideDeepSpec model, int embeddingShards, long seed) {
        return new SparseTraining(schema, model, new EmbeddingTable(model.dim(),
                RowOptimizer.parse(EmbeddingTable.DEFAULT_WIDE_OPTIMIZER),
                RowOptimizer.parse(EmbeddingTable.DEFAULT_DEEP_OPTIMIZER), seed), embeddingShards, DEFAULT_MIN_COUNT, null,
                true);
    }

    public SparseTraining withRows(int minCount, Duration rowTtl) {
        return new SparseTraining(schema, model, table, embeddingShards, minCount, rowTtl, freshRows);
    }

    public SparseTraining withTable(EmbeddingTable table) {
        return new SparseTraining(schema, model, table, embeddingShards, minCount, rowTtl, freshRows);
    }

    /** The deep part's MLP, the model's data-parallel dense parameters. */
    public ModelSpec denseSpec(long seed) {
        return model.denseSpec(schema.slots(), schema.numerics(), seed);
    }

    /**
     * The embedding-shard subtask that holds {@code id}'s row: the one Flink's {@code keyBy(id)}
     * would send it to, so that lookups routed here and gradients keyed by id meet the same state.
     */
    public int shardOf(long id) {
        int keyGroup = KeyGroupRangeAssignment.computeKeyGroupForKeyHash(Long.hashCode(id), MAX_EMBEDDING_SHARDS);
        return KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_EMBEDDING_SHARDS, embeddingShards, keyGroup);
    }

    public SparseDefinition definition() {
        return new SparseDefinition(schema.source(), schema.json(), model, table);
    }
}
