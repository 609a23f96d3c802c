package io.streambelief.serving;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.kafka.broker.KafkaBroker;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.record.SnapshotReader;

/**
 * Reads {@code model-params} (and, for a store in snapshot mode, {@code model-snapshots}) from the
 * beginning and keeps following, applying every record to the {@link ModelStore} and publishing
 * new versions after each poll. No consumer group: every server replica reads the whole compacted
 * topic, which always holds the complete latest model. Reads are {@code read_committed}, so a
 * snapshot whose transaction the job aborted (a failed checkpoint) is never seen.
 */
public final class ParamsConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ParamsConsumer.class);

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<String> topics;
    private final ModelStore store;
    private final SnapshotReader snapshots = new SnapshotReader();
    private final String snapshotsTopic;
    private final String metricsTopic;
    private final TrainingHistory history;
    private final String rowsTopic;
    private final RowStore rows;
    private long unreadableMetrics;
    private final Thread thread;
    private volatile boolean running = true;

    /** Follows model-params only. */
    public ParamsConsumer(String bootstrapServers, String topic, ModelStore store) {
        this(bootstrapServers, topic, null, store);
    }

    /** @param snapshotsTopic model-snapshots, followed for whole snapshots, or {@code null} */
    public ParamsConsumer(String bootstrapServers, String topic, String snapshotsTopic, ModelStore store) {
        this(bootstrapServers, topic, snapshotsTopic, store, null, null, null, null);
    }

    /**
     * @param metricsTopic training-metrics, followed for the dashboard if it exists when the
     *     models' topics do, or {@code null}
     * @param rowsTopic embedding-rows, followed into {@code rows} likewise, or {@code null}
     */
    ParamsConsumer(String bootstrapServers, String topic, String snapshotsTopic, ModelStore store,
            String metricsTopic, TrainingHistory history, String rowsTopic, RowStore rows) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "streambelief-serving");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Shard records are large; the default 1 MiB per fetch would make freshness wait on round trips.
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(KafkaBroker.MAX_MESSAGE_BYTES));
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.topics = snapshotsTopic == null ? List.of(topic) : List.of(topic, snapshotsTopic);
        this.snapshotsTopic = snapshotsTopic;
        this.store = store;
        this.metricsTopic = metricsTopic;
        this.history = history;
        this.rowsTopic = rowsTopic;
        this.rows = rows;
        this.thread = new Thread(this::run, "model-params-consumer");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        try {
            assignAllPartitions();
            while (running) {
                try {
                    ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                    List<byte[]> rowRecords = new ArrayList<>();
                    for (ConsumerRecord<String, byte[]> record : records) {
                        if (record.topic().equals(rowsTopic)) {
                            rowRecords.add(record.value());
                        } else if (record.topic().equals(snapshotsTopic)) {
                            snapshots.accept(record.value()).ifPresent(store::apply);
                        } else if (record.topic().equals(metricsTopic)) {
                            addMetrics(record.value());
                        } else {
                            store.apply(record.key(), record.value());
                        }
                    }
                    if (!rowRecords.isEmpty()) {
                        rows.apply(rowRecords);
                    }
                    store.publish();
                } catch (WakeupException e) {
                    throw e;
                } catch (RuntimeException e) {
                    // Keep answering with the models we have, and keep trying to follow the topic.
                    LOG.error("Reading {} failed; retrying in a second", topics, e);
                    Thread.sleep(1000);
                }
            }
        } catch (WakeupException e) {
            // close() asked us to stop
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close();
        }
    }

    /** Waits for the topics to exist (the server may start before the job creates them). */
    private void assignAllPartitions() throws WakeupException {
        boolean told = false;
        while (running) {
            List<TopicPartition> assigned = new ArrayList<>();
            String missing = null;
            for (String topic : topics) {
                List<TopicPartition> partitions = partitionsOf(topic);
                if (partitions.isEmpty()) {
                    missing = topic;
                    break;
                }
                assigned.addAll(partitions);
            }
            if (missing == null) {
                if (metricsTopic != null) {
                    List<TopicPartition> metrics = partitionsOf(metricsTopic);
                    if (metrics.isEmpty()) {
                        LOG.info("Topic {} does not exist: the dashboard will show no training curves", metricsTopic);
                    }
                    assigned.addAll(metrics);
                }
                if (rowsTopic != null) {
                    List<TopicPartition> rowPartitions = partitionsOf(rowsTopic);
                    if (rowPartitions.isEmpty()) {
                        LOG.info("Topic {} does not exist: sparse models will answer with zero rows", rowsTopic);
                    }
                    assigned.addAll(rowPartitions);
                }
                consumer.assign(assigned);
                consumer.seekToBeginning(assigned);
                LOG.info("Following {} ({} partitions)", topics, assigned.size());
                return;
            }
            if (!told) {
                LOG.info("Waiting for topic {} to exist", missing);
                told = true;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The topic's partitions; none while it does not exist or the broker cannot be reached. */
    private List<TopicPartition> partitionsOf(String topic) {
        try {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            return partitions == null ? List.of()
                    : partitions.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            return List.of();
        }
    }

    private void addMetrics(byte[] line) {
        try {
            history.add(TrainingMetrics.fromJson(line));
        } catch (RuntimeException e) {
            // A line from a newer job, or not a metrics line at all: the curves go on without it.
            if (unreadableMetrics++ == 0) {
                LOG.warn("Skipping unreadable {} lines: {}", metricsTopic, e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
