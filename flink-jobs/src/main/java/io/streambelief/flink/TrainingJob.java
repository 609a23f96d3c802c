package io.streambelief.flink;

import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;

import io.streambelief.flink.io.DeadLetterSink;
import io.streambelief.flink.io.ParamDeltaDeserializer;
import io.streambelief.flink.io.ParamDeltaSerializer;
import io.streambelief.flink.io.ParamUpdateDeserializer;
import io.streambelief.flink.io.ParamUpdateSerializer;
import io.streambelief.flink.io.RawRecord;
import io.streambelief.flink.io.RawRecordDeserializer;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.flink.io.RowGradientDeserializer;
import io.streambelief.flink.io.RowGradientSerializer;
import io.streambelief.flink.io.RowUpdateSerializer;
import io.streambelief.flink.io.SnapshotRecordSerializer;
import io.streambelief.flink.io.TrainingMetricsSerializer;
import io.streambelief.flink.ps.ParameterServer;
import io.streambelief.flink.ps.ParameterServerOperator;
import io.streambelief.flink.ps.ShardKeys;
import io.streambelief.flink.snapshot.SnapshotWriter;
import io.streambelief.flink.sparse.EmbeddingShard;
import io.streambelief.flink.sparse.EmbeddingShardOperator;
import io.streambelief.flink.sparse.ParseSparseExamples;
import io.streambelief.flink.sparse.RowReply;
import io.streambelief.flink.sparse.RowRequest;
import io.streambelief.flink.sparse.SparseTraining;
import io.streambelief.flink.sparse.SparseWorker;
import io.streambelief.flink.worker.BoundedWorker;
import io.streambelief.flink.worker.Worker;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.Example;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.RowGradient;

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
 *  examples ──► parse ──(one lookup per id)──keyBy(id)──► EmbeddingShard (RocksDB rows) ──► embedding-rows
 *                 │                                        ▲        │ rows, back to the example's worker
 *                 ▼                                        │        ▼
 *            dead-letter            embedding-gradients ───┘   SparseWorker ×W ──keyBy(shard)──► ParameterServer ...
 *                                   (read_committed)  ◄─── transactional ─┘ row gradients
 * </pre>
 *
 * <p>Flink 2 has no iterations, so the parameter feedback edge runs through the compacted
 * {@code model-params} topic. Gradients flow forward inside the graph and are covered by
 * checkpoint barriers: each example's gradient is applied exactly once to the checkpointed
 * parameter state.
 */
public final class TrainingJob {

    private TrainingJob() {}

    /** Adds the training pipeline to {@code env}. */
    public static void build(StreamExecutionEnvironment env, TrainingConfig config) {
        configure(env, config);

        // Examples: raw records, parsed next to the source; what does not parse goes to dead-letter.
        DataStream<RawRecord> rawExamples = env
                .fromSource(examplesSource(config), WatermarkStrategy.noWatermarks(), "examples")
                .uid("examples-source")
                .setParallelism(config.workers());

        SingleOutputStreamOperator<GradientSlice> gradients = config.isSparse()
                ? sparseWorkers(env, config, rawExamples)
                : denseWorkers(env, config, rawExamples);

        gradients.getSideOutput(Worker.METRICS)
                .sinkTo(atLeastOnceSink(config, new TrainingMetricsSerializer(config.topics().trainingMetrics()), 5))
                .name("training-metrics-sink").uid("training-metrics-sink")
                .setParallelism(1);

        // Parameter servers: one key per shard (spread evenly over the subtasks), state on RocksDB.
        SingleOutputStreamOperator<ParamUpdate> updates = gradients
                .keyBy(config.shardKeys().selector())
                .transform("parameter-server", RecordTypes.PARAM_UPDATE,
                        new ParameterServerOperator(new ParameterServer(config)))
                .uid("parameter-server")
                .setParallelism(config.parameterServers())
                .setMaxParallelism(ShardKeys.MAX_PARALLELISM);

        updates.sinkTo(atLeastOnceSink(config, new ParamUpdateSerializer(config.topics().modelParams()), 0))
                .name("model-params-sink").uid("model-params-sink")
                .setParallelism(config.parameterServers());

        // What changed in each shard, for the async workers (whole shards stay on model-params).
        updates.getSideOutput(ParameterServer.DELTAS)
                .sinkTo(atLeastOnceSink(config, new ParamDeltaSerializer(config.topics().modelParamDeltas()), 0))
                .name("model-param-deltas-sink").uid("model-param-deltas-sink")
                .setParallelism(config.parameterServers());

        // Model snapshots: the shards taken at each checkpoint barrier, gathered and written with a
        // manifest in the checkpoint's Kafka transaction; read_committed readers see whole ones only.
        updates.getSideOutput(ParameterServerOperator.SNAPSHOT_CHUNKS)
                .process(new SnapshotWriter(), PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)
                .name("snapshot-writer").uid("snapshot-writer")
                .setParallelism(1)
                .sinkTo(exactlyOnceSink(config, new SnapshotRecordSerializer(config.topics().modelSnapshots(),
                        config.modelId()), "snapshots"))
                .name("model-snapshots-sink").uid("model-snapshots-sink")
                .setParallelism(1);
    }

    /** Dense examples, parsed next to the source, dealt to the workers. */
    private static SingleOutputStreamOperator<GradientSlice> denseWorkers(StreamExecutionEnvironment env,
            TrainingConfig config, DataStream<RawRecord> rawExamples) {
        SingleOutputStreamOperator<Example> examples = rawExamples
                .process(new ParseExamples(config.spec().numInputs(), config.spec().numLabels(),
                        config.maxExampleBytes()))
                .name("parse-examples").uid("parse-examples")
                .setParallelism(config.workers());

        deadLetters(config, examples.getSideOutput(ParseExamples.DEAD_LETTERS));

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
                    .connect(parameterDeltas(env, config).broadcast())
                    .transform("worker", RecordTypes.GRADIENT_SLICE, new Worker(config))
                    .uid("worker");
        } else {
            gradients = dealt
                    .transform("worker", RecordTypes.GRADIENT_SLICE, new BoundedWorker(config))
                    .uid("bounded-worker");
        }
        gradients.setParallelism(config.workers()).setBufferTimeout(0);
        return gradients;
    }

    /**
     * The hybrid (model-parallel) part of a sparse model: each example explodes into one lookup per
     * id, keyed by id to the embedding shards, whose replies are routed back to the worker that
     * assembles the example. Row gradients return to the shards through {@code embedding-gradients}
     * (Flink 2 has no cycles): written in each checkpoint's Kafka transaction and read
     * read_committed, so a gradient is applied once, after the checkpoint that covers its examples.
     */
    private static SingleOutputStreamOperator<GradientSlice> sparseWorkers(StreamExecutionEnvironment env,
            TrainingConfig config, DataStream<RawRecord> rawExamples) {
        SparseTraining sparse = config.sparse();
        SingleOutputStreamOperator<RowRequest> lookups = rawExamples
                .process(new ParseSparseExamples(sparse.schema(), config.workers(), config.maxExampleBytes()),
                        RecordTypes.ROW_REQUEST)
                .name("parse-sparse-examples").uid("parse-sparse-examples")
                .setParallelism(config.workers());

        deadLetters(config, lookups.getSideOutput(ParseExamples.DEAD_LETTERS));

        DataStream<RowGradient> rowGradients = env
                .fromSource(rowGradientsSource(config), WatermarkStrategy.noWatermarks(), "embedding-gradients")
                .uid("embedding-gradients-source")
                .setParallelism(sparse.embeddingShards());

        SingleOutputStreamOperator<RowReply> rows = lookups.keyBy(RowRequest::id)
                .connect(rowGradients.keyBy(RowGradient::id))
                .transform("embedding-shard", RecordTypes.ROW_REPLY, new EmbeddingShardOperator(
                        new EmbeddingShard(config.modelId(), sparse, config.publishInterval().toMillis())))
                .uid("embedding-shard")
                .setParallelism(sparse.embeddingShards());

        rows.getSideOutput(EmbeddingShard.ROW_UPDATES)
                .sinkTo(atLeastOnceSink(config, new RowUpdateSerializer(config.topics().embeddingRows()), 5))
                .name("embedding-rows-sink").uid("embedding-rows-sink")
                .setParallelism(sparse.embeddingShards());

        SingleOutputStreamOperator<GradientSlice> gradients = rows
                .partitionCustom((worker, workers) -> worker, RowReply::worker)
                .connect(parameters(env, config).broadcast())
                .transform("sparse-worker", RecordTypes.GRADIENT_SLICE, new SparseWorker(config))
                .uid("sparse-worker")
                .setParallelism(config.workers());

        gradients.getSideOutput(SparseWorker.ROW_GRADIENTS)
                .sinkTo(exactlyOnceSink(config, new RowGradientSerializer(config.topics().embeddingGradients(),
                        config.modelId()), "row-gradients"))
                .name("embedding-gradients-sink").uid("embedding-gradients-sink")
                .setParallelism(config.workers());
        return gradients;
    }

    /**
     * What changed in the model's shards, fed back to the async workers: model-param-deltas from
     * the time the job was built (a restored job resumes from its checkpointed offsets). Every
     * shard's first delta is full, so nothing earlier is needed.
     */
    private static DataStream<ParamDelta> parameterDeltas(StreamExecutionEnvironment env, TrainingConfig config) {
        KafkaSource<ParamDelta> source = KafkaSource.<ParamDelta>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.topics().modelParamDeltas())
                .setGroupId("streambelief-" + config.modelId() + "-deltas")
                .setStartingOffsets(OffsetsInitializer.timestamp(System.currentTimeMillis()))
                .setProperty("commit.offsets.on.checkpoint", "false")
                .setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES))
                .setDeserializer(new ParamDeltaDeserializer(config.modelId()))
                .build();
        return env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "model-param-deltas")
                .uid("model-param-deltas-source")
                .setParallelism(1)
                .setBufferTimeout(0);
    }

    /** The model's parameters fed back to the sparse workers: model-params from its beginning. */
    private static DataStream<ParamUpdate> parameters(StreamExecutionEnvironment env, TrainingConfig config) {
        return env
                .fromSource(parametersSource(config), WatermarkStrategy.noWatermarks(), "model-params")
                .uid("model-params-source")
                .setParallelism(1)
                .setBufferTimeout(0);
    }

    /** Letters are cut to the limits the dead-letter topic is created with and the producer sends under. */
    private static void deadLetters(TrainingConfig config, DataStream<DeadLetter> deadLetters) {
        int topicLimit = Integer.parseInt(Topics.deadLetterConfig().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
        deadLetters
                .sinkTo(new DeadLetterSink(config.topics().deadLetter(), producerConfig(config, 5), topicLimit))
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
        if (config.mode() != TrainingMode.ASYNC) {
            // A worker waiting for parameters takes no examples: an aligned barrier queued behind
            // them would hold the parameter servers' alignment, and with it the updates the worker
            // waits for. Unaligned barriers overtake the queue.
            conf.setString("execution.checkpointing.unaligned.enabled", "true");
        }
        env.configure(conf);
        env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
    }

    private static KafkaSource<RawRecord> examplesSource(TrainingConfig config) {
        return KafkaSource.<RawRecord>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.topics().examples())
                .setGroupId("streambelief-" + config.modelId())
                // A new job trains a new model on the whole topic; a restored job resumes from its checkpoint.
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new RawRecordDeserializer())
                .build();
    }

    private static KafkaSource<ParamUpdate> parametersSource(TrainingConfig config) {
        KafkaRecordDeserializationSchema<ParamUpdate> deserializer = new ParamUpdateDeserializer(config.modelId());
        return KafkaSource.<ParamUpdate>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.topics().modelParams())
                .setGroupId("streambelief-" + config.modelId() + "-params")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setProperty("commit.offsets.on.checkpoint", "false")
                // Shard records are large: the default 1 MiB per fetch would carry two of them and
                // make the feedback loop wait on fetch round trips.
                .setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES))
                .setDeserializer(deserializer)
                .build();
    }

    /**
     * Exactly-once: each checkpoint's records are one Kafka transaction, committed when the
     * checkpoint completes and aborted if it does not. The transaction timeout must stay within
     * the broker's {@code transaction.max.timeout.ms} (15 minutes by default; the sink's own
     * default of one hour is refused) and well above the checkpoint interval.
     */
    private static <T> KafkaSink<T> exactlyOnceSink(TrainingConfig config, KafkaRecordSerializationSchema<T> schema,
            String name) {
        Properties producer = new Properties();
        producer.setProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        producer.setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(Math.max(TimeUnit.MINUTES.toMillis(10), 3 * config.checkpointInterval().toMillis())));
        producer.setProperty(ProducerConfig.LINGER_MS_CONFIG, "5");
        return KafkaSink.<T>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setKafkaProducerConfig(producer)
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("streambelief-" + config.modelId() + "-" + name)
                .build();
    }

    /**
     * Row gradients, read_committed: only those of completed checkpoints. A restored job resumes
     * from its checkpointed offsets; a new one starts at the time it was built, so gradients a
     * previous job of the same model left in the topic are not applied to fresh rows.
     */
    private static KafkaSource<RowGradient> rowGradientsSource(TrainingConfig config) {
        return KafkaSource.<RowGradient>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.topics().embeddingGradients())
                .setGroupId("streambelief-" + config.modelId() + "-row-gradients")
                .setStartingOffsets(OffsetsInitializer.timestamp(System.currentTimeMillis()))
                .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "false")
                .setDeserializer(new RowGradientDeserializer(config.modelId()))
                .build();
    }

    /** @param lingerMillis how long the producer may wait to batch records: 0 where freshness matters */
    private static <T> KafkaSink<T> atLeastOnceSink(TrainingConfig config, KafkaRecordSerializationSchema<T> schema,
            int lingerMillis) {
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(producerConfig(config, lingerMillis))
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();
    }

    /** The at-least-once producers': records as large as the broker takes. */
    private static Properties producerConfig(TrainingConfig config, int lingerMillis) {
        Properties producer = new Properties();
        producer.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        producer.setProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        producer.setProperty(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMillis));
        return producer;
    }
}
