package io.streambelief.launcher.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.streambelief.flink.io.ParamUpdateDeserializer;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.record.ParamUpdate;

/**
 * How far a training job has got, as its parameter servers publish it: follows {@code model-params}
 * from the beginning and keeps the latest record of every shard of one model — the view the
 * workers and the model server have. After a restore the servers publish their restored state, so
 * the counts can go back before they grow again; they are what the job really holds.
 */
public final class PublishedShards implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ParamUpdateDeserializer deserializer;
    private final Map<Integer, ParamUpdate> latest = new TreeMap<>();
    private final int shardCount;

    /** @param shardCount shards of the model: until each has published, nothing counts as trained */
    public PublishedShards(String bootstrapServers, String paramsTopic, String modelId, int shardCount) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        TopicPartition partition = new TopicPartition(paramsTopic, 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        this.deserializer = new ParamUpdateDeserializer(modelId);
        this.shardCount = shardCount;
    }

    /** Takes in what was published since the last call, waiting at most {@code wait} for something new. */
    public Progress poll(Duration wait) {
        List<ParamUpdate> updates = new ArrayList<>();
        Collector<ParamUpdate> collector = new ListCollector<>(updates);
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(wait)) {
            deserializer.deserialize(record, collector);
        }
        updates.forEach(update -> latest.put(update.shardId(), update));
        return progress();
    }

    /** Takes in everything published up to now: the end of the topic when called. */
    public Progress catchUp() {
        long end = consumer.endOffsets(consumer.assignment()).values().iterator().next();
        TopicPartition partition = consumer.assignment().iterator().next();
        while (consumer.position(partition) < end) {
            poll(Duration.ofMillis(200));
        }
        return progress();
    }

    /**
     * Examples every shard holds, counting only shards whose latest record was published at or
     * after {@code sinceMillis} (the publishing server's wall clock); empty while some shard's
     * latest record is older — for instance, from before a restore.
     */
    public OptionalLong minAppliedSince(long sinceMillis) {
        if (latest.size() < shardCount
                || latest.values().stream().anyMatch(update -> update.timestampMillis() < sinceMillis)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(latest.values().stream().mapToLong(ParamUpdate::examplesApplied).min().orElse(0));
    }

    /** The latest record of every shard that has published one. */
    public Map<Integer, ParamUpdate> latest() {
        return Map.copyOf(latest);
    }

    public Progress progress() {
        long min = latest.size() < shardCount ? 0
                : latest.values().stream().mapToLong(ParamUpdate::examplesApplied).min().orElse(0);
        long max = latest.values().stream().mapToLong(ParamUpdate::examplesApplied).max().orElse(0);
        return new Progress(latest.size(), min, max);
    }

    /**
     * @param shards shards that have published at least once
     * @param minApplied examples whose gradients every shard holds (0 until all shards published):
     *     what the model has been trained on
     * @param maxApplied the most examples any shard holds
     */
    public record Progress(int shards, long minApplied, long maxApplied) {}

    @Override
    public void close() {
        consumer.close();
    }
}
