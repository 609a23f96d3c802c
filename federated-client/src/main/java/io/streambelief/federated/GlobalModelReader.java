package io.streambelief.federated;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.model.record.RecordFormatException;

/**
 * Follows the compacted {@code model-params} topic, where the aggregator publishes every shard
 * after each round, and assembles the global model whenever all its shards show the same version.
 * Before the aggregator has published anything the global model is version 0: the model's
 * initial parameters, which the aggregator starts from too (both draw them from the model's seed).
 * Not thread-safe (a Kafka consumer).
 */
public final class GlobalModelReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String keyPrefix;
    private final String definitionKey;
    private final ParameterLayout layout;
    private final ModelSpec spec;
    private final Map<Integer, ParamUpdate> shards = new HashMap<>();

    public GlobalModelReader(String bootstrapServers, String topic, String modelId, ModelSpec spec, int shardSize) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(4 << 20));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (partitions == null || partitions.isEmpty()) {
            consumer.close();
            throw new IllegalStateException("Topic " + topic + " does not exist on " + bootstrapServers
                    + ": start the training job in a federated mode first (it creates its topics)");
        }
        List<TopicPartition> assigned = partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(assigned);
        consumer.seekToBeginning(assigned);
        this.keyPrefix = modelId + "/";
        this.definitionKey = ModelIds.definitionKey(modelId);
        this.spec = spec;
        this.layout = ParameterLayout.of(spec, shardSize);
    }

    /**
     * The newest global model of at least {@code minVersion}, waiting up to {@code timeout} for the
     * aggregator to publish it; empty if it has not by then.
     */
    public Optional<GlobalModel> await(long minVersion, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            readToTheEnd();
            Optional<GlobalModel> model = current().filter(m -> m.version() >= minVersion);
            if (model.isPresent()) {
                return model;
            }
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    private void readToTheEnd() {
        Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment());
        boolean behind = true;
        while (behind) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                take(record);
            }
            behind = ends.entrySet().stream().anyMatch(end -> consumer.position(end.getKey()) < end.getValue());
        }
    }

    private void take(ConsumerRecord<byte[], byte[]> record) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        String key = new String(record.key(), StandardCharsets.UTF_8);
        if (!key.startsWith(keyPrefix) || key.equals(definitionKey)) {
            return;
        }
        try {
            ParamUpdate update = ParamUpdateCodec.decode(record.value());
            if (update.shardId() >= 0 && update.shardId() < layout.shardCount()
                    && update.values().length == layout.length(update.shardId())) {
                shards.merge(update.shardId(), update, (old, now) -> now.version() >= old.version() ? now : old);
            }
        } catch (RecordFormatException e) {
            // Another writer's record under our key prefix: not a shard of this model.
        }
    }

    /** The model if every shard is at one version; the initial model before anything was published. */
    private Optional<GlobalModel> current() {
        if (shards.isEmpty()) {
            return Optional.of(new GlobalModel(0, spec.initialParameters()));
        }
        if (shards.size() < layout.shardCount()) {
            return Optional.empty();
        }
        long version = shards.get(0).version();
        float[] parameters = new float[layout.numParams()];
        for (ParamUpdate shard : shards.values()) {
            if (shard.version() != version) {
                return Optional.empty();
            }
            layout.place(parameters, shard.shardId(), shard.values());
        }
        return Optional.of(new GlobalModel(version, parameters));
    }

    @Override
    public void close() {
        consumer.close();
    }
}
