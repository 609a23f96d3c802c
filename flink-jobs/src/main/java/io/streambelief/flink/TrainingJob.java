package io.streambelief.flink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.TwoInputTransformation;

import io.streambelief.flink.config.Dealing;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.flink.federated.FederatedShard;
import io.streambelief.flink.federated.RoundCoordinator;
import io.streambelief.flink.federated.ShardContribution;
import io.streambelief.flink.io.ParsedExample;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.flink.io.RowGradients;
import io.streambelief.flink.io.RowLookup;
import io.streambelief.flink.io.RowLookupReply;
import io.streambelief.flink.parse.DeadLetters;
import io.streambelief.flink.parse.ParseModelUpdates;
import io.streambelief.flink.parse.ParseExamples;
import io.streambelief.flink.parse.ParseSparseExamples;
import io.streambelief.flink.parse.RawRecord;
import io.streambelief.flink.ps.ParameterServer;
import io.streambelief.flink.ps.ParameterServerOperator;
import io.streambelief.flink.ps.ShardKeys;
import io.streambelief.flink.snapshot.SnapshotWriter;
import io.streambelief.flink.sparse.EmbeddingShard;
import io.streambelief.flink.sparse.GradientBatcher;
import io.streambelief.flink.sparse.LookupBatcher;
import io.streambelief.flink.sparse.SparseWorker;
import io.streambelief.flink.worker.BoundedWorker;
import io.streambelief.flink.worker.ProgressiveValidation;
import io.streambelief.flink.worker.Worker;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.model.Example;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ModelUpdate;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;

/**
 * The online training job: Downpour SGD on Flink.
 *
 * <pre>
 *  examples ──► parse ──► Worker ×W ──keyBy(shard)──► ParameterServer (RocksDB) ──► model-params (serving)
 *                 │          ▲   (compressed gradients)             │ ──► model-param-deltas ──┐
 *                 ▼          └──────────── model-param-deltas (broadcast) ◄────────────────────┘
 *            dead-letter     └──► training-metrics                  └─ at each checkpoint ──► SnapshotWriter
 *                                                                                    ──► model-snapshots (transactional)
 * </pre>
 *
 * <p>A sparse (wide &amp; deep) model replaces the parse and worker stage with the hybrid one
 * ({@link #sparseWorkers}): its dense MLP trains exactly as above, its embedding rows live keyed by
 * feature id on embedding shards.
 *
 * <pre>
 *  examples ──► parse ──► LookupBatcher ──(one lookup per shard and batch)──► EmbeddingShard (RocksDB rows) ──► embedding-rows
 *                 │                                                   ▲        │ rows, back to the batch's worker
 *                 ▼                                                   │        ▼
 *            dead-letter  embedding-gradients ─► GradientBatcher ─┤   SparseWorker ×W ──keyBy(shard)──► ParameterServer ...
 *                        (read_committed)  ◄──────── transactional ────────┘ row gradients
 *                        embedding-gradients ─► GradientBatcher ─┘ (fresh rows: read_uncommitted, the rows as lookups see them)
 * </pre>
 *
 * <p>The federated modes ({@code fedavg}, {@code fedbuff}) build another graph: the aggregator of
 * client updates ({@link #federatedAggregator}).
 *
 * <p>Flink 2 has no iterations, so the parameter feedback edge runs through the compacted
 * {@code model-params} topic. Gradients flow forward inside the graph and are covered by
 * checkpoint barriers: each example's gradient is applied exactly once to the checkpointed
 * parameter state.
 *
 * <p>The job reads and writes through a {@link JobIo}: Kafka in a deployment, what a test passes
 * otherwise. Every operator's uid is fixed: savepoints find their state by it.
 */
public final class TrainingJob {

    private TrainingJob() {}

    /** Adds the training pipeline to {@code env}, on the Kafka topics of {@code config}. */
    public static void build(StreamExecutionEnvironment env, TrainingConfig config) {
        build(env, config, JobIo.kafka(config));
    }

    /** Adds the training pipeline to {@code env}, reading and writing through {@code io}. */
    public static void build(StreamExecutionEnvironment env, TrainingConfig config, JobIo io) {
        configure(env, config);
        if (config.mode().isFederated()) {
            federatedAggregator(env, config, io);
            return;
        }
        JobIo.Sources sources = io.sources();
        JobIo.Sinks sinks = io.sinks();

        // Examples: raw records, parsed next to the source; what does not parse goes to dead-letter.
        DataStream<RawRecord> rawExamples = env
                .fromSource(sources.examples(), WatermarkStrategy.noWatermarks(), "examples")
                .uid("examples-source")
                .setParallelism(config.workers());

        SingleOutputStreamOperator<GradientSlice> gradients = config.isSparse()
                ? sparseWorkers(env, config, io, rawExamples)
                : denseWorkers(env, config, io, rawExamples);

        gradients.getSideOutput(ProgressiveValidation.METRICS)
                .sinkTo(sinks.trainingMetrics())
                .name("training-metrics-sink").uid("training-metrics-sink")
                .setParallelism(1);

        // Parameter servers: one key per shard (spread evenly over the subtasks), state on RocksDB.
        SingleOutputStreamOperator<ParamUpdate> updates = gradients
                .keyBy(ShardKeys.spread(config.layout().shardCount()).selector())
                .transform("parameter-server", RecordTypes.PARAM_UPDATE,
                        new ParameterServerOperator(new ParameterServer(config)))
                .name("parameter-server").uid("parameter-server")
                .setParallelism(config.parameterServers())
                .setMaxParallelism(ShardKeys.MAX_PARALLELISM);

        updates.sinkTo(sinks.modelParams())
                .name("model-params-sink").uid("model-params-sink")
                .setParallelism(config.parameterServers());

        // What changed in each shard, for the async workers (whole shards stay on model-params).
        updates.getSideOutput(ParameterServer.DELTAS)
                .sinkTo(sinks.modelParamDeltas())
                .name("model-param-deltas-sink").uid("model-param-deltas-sink")
                .setParallelism(config.parameterServers());

        // Model snapshots: the shards taken at each checkpoint barrier, gathered and written with a
        // manifest in the checkpoint's Kafka transaction; read_committed readers see whole ones only.
        updates.getSideOutput(ParameterServerOperator.SNAPSHOT_CHUNKS)
                .process(new SnapshotWriter(), PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)
                .name("snapshot-writer").uid("snapshot-writer")
                .setParallelism(1)
                .sinkTo(sinks.modelSnapshots())
                .name("model-snapshots-sink").uid("model-snapshots-sink")
                .setParallelism(1);
    }

    /**
     * The federated modes: no examples and no workers here — clients train where their data is and
     * send model updates. One coordinator per model decides which updates count and when a round
     * (or FedBuff's buffer) closes; the shards sum the counted updates' slices and publish each new
     * version of the global model to model-params, where clients and serving read it.
     *
     * <pre>
     *  client-updates ──► parse ──keyBy(model)──► RoundCoordinator ──keyBy(shard)──► FederatedShard (RocksDB) ──► model-params
     *                       │                      (who counts, when to close)        (sum, mean + noise, server optimizer)
     *                       ▼
     *                  dead-letter
     * </pre>
     */
    private static void federatedAggregator(StreamExecutionEnvironment env, TrainingConfig config, JobIo io) {
        SingleOutputStreamOperator<ModelUpdate> updates = env
                .fromSource(io.sources().clientUpdates(), WatermarkStrategy.noWatermarks(), "client-updates")
                .uid("client-updates-source")
                .setParallelism(1)
                .process(new ParseModelUpdates(config.modelId(), config.spec().numParams(), config.maxExampleBytes()),
                        TypeInformation.of(ModelUpdate.class))
                .name("parse-model-updates").uid("parse-model-updates")
                .setParallelism(1);

        deadLetters(io, updates.getSideOutput(DeadLetters.OUTPUT));

        SingleOutputStreamOperator<ShardContribution> contributions = updates
                .keyBy(ModelUpdate::modelId)
                .process(new RoundCoordinator(config), TypeInformation.of(ShardContribution.class))
                .name("round-coordinator").uid("round-coordinator")
                .setParallelism(1);

        ShardKeys keys = ShardKeys.spread(config.layout().shardCount());
        SingleOutputStreamOperator<ParamUpdate> shards = contributions
                .keyBy(contribution -> keys.key(contribution.shard()), Types.INT)
                .process(new FederatedShard(config), RecordTypes.PARAM_UPDATE)
                .name("federated-shard").uid("federated-shard")
                .setParallelism(config.parameterServers())
                .setMaxParallelism(ShardKeys.MAX_PARALLELISM);

        shards.sinkTo(io.sinks().modelParams())
                .name("model-params-sink").uid("model-params-sink")
                .setParallelism(config.parameterServers());
    }

    /** Dense examples, parsed next to the source, dealt to the workers. */
    private static SingleOutputStreamOperator<GradientSlice> denseWorkers(StreamExecutionEnvironment env,
            TrainingConfig config, JobIo io, DataStream<RawRecord> rawExamples) {
        SingleOutputStreamOperator<Example> examples = rawExamples
                .process(new ParseExamples(config.spec().numInputs(), config.spec().numLabels(),
                        config.maxExampleBytes()))
                .name("parse-examples").uid("parse-examples")
                .setParallelism(config.workers());

        deadLetters(io, examples.getSideOutput(DeadLetters.OUTPUT));

        // Examples are dealt to the workers in turn; with warmstart, the first ones all go to worker 0
        // (only then a custom partitioner: SSP and BSP need unaligned checkpoints, which refuse one).
        // Dealt by partition, each worker trains what its own source subtask reads: forward.
        DataStream<Example> dealt = config.warmstartExamples() > 0
                ? examples.partitionCustom(new WarmstartPartitioner(config.warmstartExamples(), config.workers()), e -> e)
                : config.dealing() == Dealing.PARTITION ? examples : examples.rebalance();

        // Workers: evaluate, then compute and push gradients. Async workers get the parameters fed
        // back as a second input: the parameter servers' deltas, broadcast. Buffer timeout 0 on the
        // feedback loop: the default 100 ms would leave each record's tail waiting and every
        // worker that much staler. SSP and BSP workers, which must wait for parameters, follow
        // model-params themselves.
        SingleOutputStreamOperator<GradientSlice> gradients;
        if (config.mode() == TrainingMode.ASYNC) {
            gradients = dealt
                    .connect(parameterDeltas(env, io).broadcast())
                    .transform("worker", RecordTypes.GRADIENT_SLICE, new Worker(config))
                    .name("worker").uid("worker");
        } else {
            gradients = dealt
                    .transform("worker", RecordTypes.GRADIENT_SLICE, new BoundedWorker(config))
                    .name("worker").uid("bounded-worker");
        }
        gradients.setParallelism(config.workers()).setBufferTimeout(0);
        return gradients;
    }

    /**
     * The hybrid (model-parallel) part of a sparse model: examples are batched, each batch's ids
     * looked up with one record per embedding shard that holds some of them, and the shards'
     * replies routed back to the worker that trains the batch. Row gradients return to the shards through {@code embedding-gradients}
     * (Flink 2 has no cycles): written in each checkpoint's Kafka transaction and read
     * read_committed, so a gradient is applied to the rows' state once, after the checkpoint that
     * covers its examples. With fresh rows the same log is read a second time as soon as it is
     * written: the shard shows those gradients to lookups and serving ahead of their commit, and
     * never puts them in its state ({@link EmbeddingShard}).
     */
    private static SingleOutputStreamOperator<GradientSlice> sparseWorkers(StreamExecutionEnvironment env,
            TrainingConfig config, JobIo io, DataStream<RawRecord> rawExamples) {
        SparseTraining sparse = config.sparse();
        SingleOutputStreamOperator<ParsedExample> examples = rawExamples
                .process(new ParseSparseExamples(sparse.schema(), config.maxExampleBytes()), RecordTypes.PARSED_EXAMPLE)
                .name("parse-sparse-examples").uid("parse-sparse-examples")
                .setParallelism(config.workers());

        deadLetters(io, examples.getSideOutput(DeadLetters.OUTPUT));

        // Mini-batches formed before their rows are looked up: one lookup per shard and batch.
        SingleOutputStreamOperator<RowLookup> lookups = examples
                .transform("lookup-batcher", RecordTypes.ROW_LOOKUP, new LookupBatcher(config))
                .name("lookup-batcher").uid("lookup-batcher")
                .setParallelism(config.workers())
                .setBufferTimeout(0);

        // Row gradients back from Kafka, grouped per shard next to the source as lookups are:
        // committed ones for the rows' state, and for fresh rows the same log as soon as written.
        DataStream<RowGradients> rowGradients = env
                .fromSource(io.sources().embeddingGradients(), WatermarkStrategy.noWatermarks(), "embedding-gradients")
                .uid("embedding-gradients-source")
                .setParallelism(sparse.embeddingShards())
                .transform("gradient-batcher", RecordTypes.ROW_GRADIENTS, new GradientBatcher(sparse, true))
                .name("gradient-batcher").uid("gradient-batcher")
                .setParallelism(sparse.embeddingShards());
        if (sparse.freshRows()) {
            rowGradients = rowGradients.union(env
                    .fromSource(io.sources().freshEmbeddingGradients(), WatermarkStrategy.noWatermarks(),
                            "fresh-embedding-gradients")
                    .uid("fresh-embedding-gradients-source")
                    .setParallelism(sparse.embeddingShards())
                    .transform("fresh-gradient-batcher", RecordTypes.ROW_GRADIENTS, new GradientBatcher(sparse, false))
                    .name("fresh-gradient-batcher").uid("fresh-gradient-batcher")
                    .setParallelism(sparse.embeddingShards()));
        }

        // Lookups and gradients go straight to the shard that holds their ids' key groups, where
        // they are read as keyed (their first id the state key; the shard reads each id under its own).
        SingleOutputStreamOperator<RowLookupReply> rows = lookups
                .partitionCustom((shard, shards) -> shard, RowLookup::shard)
                .connect(rowGradients.partitionCustom((shard, shards) -> shard, RowGradients::shard))
                .transform("embedding-shard", RecordTypes.ROW_LOOKUP_REPLY,
                        new EmbeddingShard(config.modelId(), sparse, config.publishInterval().toMillis()))
                .name("embedding-shard").uid("embedding-shard")
                .setParallelism(sparse.embeddingShards())
                .setMaxParallelism(SparseTraining.MAX_EMBEDDING_SHARDS)
                .setBufferTimeout(0);
        @SuppressWarnings("unchecked")
        var shard = (TwoInputTransformation<RowLookup, RowGradients, RowLookupReply>) rows.getTransformation();
        shard.setStateKeySelectors((RowLookup lookup) -> lookup.ids()[0],
                (RowGradients gradients) -> gradients.gradients()[0].id());
        shard.setStateKeyType(Types.LONG);

        rows.getSideOutput(EmbeddingShard.ROW_UPDATES)
                .sinkTo(io.sinks().embeddingRows())
                .name("embedding-rows-sink").uid("embedding-rows-sink")
                .setParallelism(sparse.embeddingShards());

        // The model's parameters fed back to the sparse workers: model-params from its beginning.
        DataStream<ParamUpdate> parameters = env
                .fromSource(io.sources().modelParams(), WatermarkStrategy.noWatermarks(), "model-params")
                .uid("model-params-source")
                .setParallelism(1)
                .setBufferTimeout(0);

        SingleOutputStreamOperator<GradientSlice> gradients = rows
                .partitionCustom((worker, workers) -> worker, RowLookupReply::worker)
                .connect(parameters.broadcast())
                .transform("sparse-worker", RecordTypes.GRADIENT_SLICE, new SparseWorker(config))
                .name("sparse-worker").uid("sparse-worker")
                .setParallelism(config.workers())
                .setBufferTimeout(0);

        gradients.getSideOutput(SparseWorker.ROW_GRADIENTS)
                .sinkTo(io.sinks().embeddingGradients())
                .name("embedding-gradients-sink").uid("embedding-gradients-sink")
                .setParallelism(config.workers());
        return gradients;
    }

    /**
     * What changed in the model's shards, fed back to the async workers (a restored job resumes
     * from its checkpointed offsets).
     */
    private static DataStream<ParamDelta> parameterDeltas(StreamExecutionEnvironment env, JobIo io) {
        return env
                .fromSource(io.sources().modelParamDeltas(), WatermarkStrategy.noWatermarks(), "model-param-deltas")
                .uid("model-param-deltas-source")
                .setParallelism(1)
                .setBufferTimeout(0);
    }

    private static void deadLetters(JobIo io, DataStream<DeadLetter> deadLetters) {
        deadLetters
                .sinkTo(io.sinks().deadLetters())
                .name("dead-letter-sink").uid("dead-letter-sink");
    }

    /** What the job needs whatever cluster it runs on: RocksDB state, exactly-once checkpoints. */
    private static void configure(StreamExecutionEnvironment env, TrainingConfig config) {
        Configuration conf = new Configuration();
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("state.backend.incremental", "true");
        // Every record type is a Java record or POJO: a Kryo fallback would be a silent slowdown.
        conf.setString("pipeline.generic-types", "false");
        // Operator state (the workers' replicas) is restored through a stream that Flink 2.2 reads
        // one byte per system call unless snapshots are compressed (CompressibleFSDataInputStream
        // has no bulk read): uncompressed, a restored worker spent 13 s of its recovery reading
        // 8 MB of union state. Compressed, the bytes come from the decompressor's buffer.
        conf.setString("execution.checkpointing.snapshot-compression", "true");
        // The live row count of a sparse model's table, per embedding shard (RocksDB's own estimate).
        conf.setString("state.backend.rocksdb.metrics.estimate-num-keys", "true");
        if (config.mode() == TrainingMode.SSP || config.mode() == TrainingMode.BSP) {
            // A worker waiting for parameters takes no examples: an aligned barrier queued behind
            // them would hold the parameter servers' alignment, and with it the updates the worker
            // waits for. Unaligned barriers overtake the queue.
            conf.setString("execution.checkpointing.unaligned.enabled", "true");
        }
        env.configure(conf);
        env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
    }
}
