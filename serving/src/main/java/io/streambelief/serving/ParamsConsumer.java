package io.streambelief.serving;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

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

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.kafka.topic.Topics;
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
    /** How often the consumer measures how far behind the topics' ends it is. */
    private static final long LAG_INTERVAL_MILLIS = 2_000;

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
    private final AtomicLong failedRecords = new AtomicLong();
    private volatile long lastPollMillis;
    private volatile long lag = -1;
    private long lagMeasuredMillis;
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
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
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
                    lastPollMillis = System.currentTimeMillis();
                    List<byte[]> rowRecords = new ArrayList<>();
                    for (ConsumerRecord<String, byte[]> record : records) {
                        if (record.topic().equals(rowsTopic)) {
                            rowRecords.add(record.value());
                        } else {
                            apply(record);
                        }
                    }
                    if (!rowRecords.isEmpty()) {
                        rows.apply(rowRecords);
                    }
                    store.publish();
                    measureLag();
                } catch (WakeupException e) {
                    throw e;
                } catch (RuntimeException | OutOfMemoryError e) {
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
            try {
                store.saveCopy();
            } finally {
                consumer.close();
            }
        }
    }

    /**
     * One record, on its own: whatever it holds, what fails with it is that record alone (skipped
     * and counted), never the records after it in the same poll nor this thread. Out of memory
     * included: a record's own allocation is what fails, and it is freed with it.
     */
    private void apply(ConsumerRecord<String, byte[]> record) {
        try {
            if (record.topic().equals(snapshotsTopic)) {
                snapshots.accept(record.value()).ifPresent(store::apply);
            } else if (record.topic().equals(metricsTopic)) {
                addMetrics(record.value());
            } else {
                store.apply(record.key(), record.value());
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            failedRecords.incrementAndGet();
            LOG.warn("Skipping the record at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.toString());
        }
    }

    /** Every few seconds: how many records of the followed topics are not read yet. */
    private void measureLag() {
        long now = System.currentTimeMillis();
        if (now - lagMeasuredMillis < LAG_INTERVAL_MILLIS || consumer.assignment().isEmpty()) {
            return;
        }
        lagMeasuredMillis = now;
        try {
            // Under read_committed the end is the last stable offset: what a reader could have read.
            Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(2));
            long behind = 0;
            for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
                behind += Math.max(0, end.getValue() - consumer.position(end.getKey(), Duration.ofSeconds(2)));
            }
            lag = behind;
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            // The broker is away: the lag stays what it was; the time since the last poll tells.
        }
    }

    /**
     * For {@code /healthz}: whether the thread that follows the topics is alive, how long ago it
     * last polled, and how many records it has still to read (-1 before the first measure).
     */
    Health health() {
        return new Health(thread.isAlive(), lastPollMillis == 0 ? -1 : System.currentTimeMillis() - lastPollMillis,
                lag, failedRecords.get());
    }

    record Health(boolean alive, long sinceLastPollMillis, long lagRecords, long failedRecords) {}

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
            TrainingMetrics report = TrainingMetrics.fromJson(line);
            history.add(report, System.currentTimeMillis());
            store.gate().observe(report.model(), report.timeMillis(), report.loss());
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
