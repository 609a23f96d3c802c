package io.streambelief.flink;

import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.LoggedRowGradient;
import io.streambelief.flink.io.ParamDeltaDeserializer;
import io.streambelief.flink.io.ParamDeltaSerializer;
import io.streambelief.flink.io.ParamUpdateDeserializer;
import io.streambelief.flink.io.ParamUpdateSerializer;
import io.streambelief.flink.parse.DeadLetterSink;
import io.streambelief.flink.parse.RawRecord;
import io.streambelief.flink.parse.RawRecordDeserializer;
import io.streambelief.flink.snapshot.SnapshotRecordSerializer;
import io.streambelief.flink.sparse.RowGradientDeserializer;
import io.streambelief.flink.sparse.RowGradientSerializer;
import io.streambelief.flink.sparse.RowUpdateSerializer;
import io.streambelief.flink.worker.TrainingMetricsSerializer;
import io.streambelief.kafka.deadletter.DeadLetter;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.record.RowUpdate;

/**
 * Where the training job reads and writes: the Kafka topics of its configuration in a deployment
 * ({@link #kafka}), whatever a test passes to run the graph without a broker. A source or sink
 * that the configuration does not use (the sparse ones for a dense model, the deltas for a sparse
 * one) may be null.
 */
public record JobIo(Sources sources, Sinks sinks) {

    /**
     * What the job reads: the examples, and the parameter feedback that Flink 2, without
     * iterations, routes through topics (whole shards for sparse workers, deltas for async dense
     * workers, row gradients back to the embedding shards).
     */
    public record Sources(Source<RawRecord, ?, ?> examples, Source<ParamUpdate, ?, ?> modelParams,
            Source<ParamDelta, ?, ?> modelParamDeltas, Source<LoggedRowGradient, ?, ?> embeddingGradients,
            Source<LoggedRowGradient, ?, ?> freshEmbeddingGradients, Source<RawRecord, ?, ?> clientUpdates) {}

    /** What the job writes; model snapshots arrive as records the snapshot writer already encoded. */
    public record Sinks(Sink<ParamUpdate> modelParams, Sink<ParamDelta> modelParamDeltas, Sink<byte[]> modelSnapshots,
            Sink<TrainingMetrics> trainingMetrics, Sink<DeadLetter> deadLetters, Sink<RowUpdate> embeddingRows,
            Sink<RowGradient> embeddingGradients) {}

    /** The deployment's: the configured topics on the configured brokers. */
    public static JobIo kafka(TrainingConfig config) {
        return new JobIo(kafkaSources(config), kafkaSinks(config));
    }

    private static Sources kafkaSources(TrainingConfig config) {
        return new Sources(
                KafkaSource.<RawRecord>builder()
                        .setBootstrapServers(config.bootstrapServers())
                        .setTopics(config.topics().examples())
                        .setGroupId("streambelief-" + config.modelId())
                        // A new job trains a new model on the whole topic; a restored job resumes from its checkpoint.
                        .setStartingOffsets(OffsetsInitializer.earliest())
                        .setDeserializer(new RawRecordDeserializer())
                        .build(),
                KafkaSource.<ParamUpdate>builder()
                        .setBootstrapServers(config.bootstrapServers())
                        .setTopics(config.topics().modelParams())
                        .setGroupId("streambelief-" + config.modelId() + "-params")
                        .setStartingOffsets(OffsetsInitializer.earliest())
                        .setProperty("commit.offsets.on.checkpoint", "false")
                        // Shard records are large: the default 1 MiB per fetch would carry two of them and
                        // make the feedback loop wait on fetch round trips.
                        .setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                                Integer.toString(Topics.MAX_RECORD_BYTES))
                        .setDeserializer(new ParamUpdateDeserializer(config.modelId()))
                        .build(),
                // From the time the job was built (a restored job resumes from its checkpointed
                // offsets): every shard's first delta is full, so nothing earlier is needed.
                KafkaSource.<ParamDelta>builder()
                        .setBootstrapServers(config.bootstrapServers())
                        .setTopics(config.topics().modelParamDeltas())
                        .setGroupId("streambelief-" + config.modelId() + "-deltas")
                        .setStartingOffsets(OffsetsInitializer.timestamp(System.currentTimeMillis()))
                        .setProperty("commit.offsets.on.checkpoint", "false")
                        .setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                                Integer.toString(Topics.MAX_RECORD_BYTES))
                        .setDeserializer(new ParamDeltaDeserializer(config.modelId()))
                        .build(),
                rowGradients(config, "read_committed", "-row-gradients"),
                config.isSparse() && config.sparse().freshRows()
                        ? rowGradients(config, "read_uncommitted", "-fresh-row-gradients") : null,
                // Every update counts once, whenever it came: a new aggregator reads the topic from its beginning.
                KafkaSource.<RawRecord>builder()
                        .setBootstrapServers(config.bootstrapServers())
                        .setTopics(config.topics().clientUpdates())
                        .setGroupId("streambelief-" + config.modelId() + "-client-updates")
                        .setStartingOffsets(OffsetsInitializer.earliest())
                        .setProperty(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
                                Integer.toString(Topics.MAX_RECORD_BYTES))
                        .setDeserializer(new RawRecordDeserializer())
                        .build());
    }

    /**
     * Row gradients, read_committed for the rows' state (only those of completed checkpoints) or
     * read_uncommitted for fresh rows (as soon as written). A new job starts at the time it was
     * built, so gradients a previous job of the same model left in the topic are not applied to
     * fresh rows.
     */
    private static KafkaSource<LoggedRowGradient> rowGradients(TrainingConfig config, String isolation,
            String groupSuffix) {
        return KafkaSource.<LoggedRowGradient>builder()
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(config.topics().embeddingGradients())
                .setGroupId("streambelief-" + config.modelId() + groupSuffix)
                .setStartingOffsets(OffsetsInitializer.timestamp(System.currentTimeMillis()))
                .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation)
                .setProperty("commit.offsets.on.checkpoint", "false")
                .setDeserializer(new RowGradientDeserializer(config.modelId()))
                .build();
    }

    private static Sinks kafkaSinks(TrainingConfig config) {
        // Letters are cut to the limits the dead-letter topic is created with and the producer sends under.
        int deadLetterLimit = Integer.parseInt(Topics.deadLetterConfig().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
        return new Sinks(
                atLeastOnceSink(config, new ParamUpdateSerializer(config.topics().modelParams()), 0),
                atLeastOnceSink(config, new ParamDeltaSerializer(config.topics().modelParamDeltas()), 0),
                exactlyOnceSink(config, new SnapshotRecordSerializer(config.topics().modelSnapshots(),
                        config.modelId()), "snapshots"),
                atLeastOnceSink(config, new TrainingMetricsSerializer(config.topics().trainingMetrics()), 5),
                new DeadLetterSink(config.topics().deadLetter(), producerConfig(config, 5), deadLetterLimit),
                atLeastOnceSink(config, new RowUpdateSerializer(config.topics().embeddingRows()), 5),
                exactlyOnceSink(config, new RowGradientSerializer(config.topics().embeddingGradients(),
                        config.modelId()), "row-gradients"));
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
