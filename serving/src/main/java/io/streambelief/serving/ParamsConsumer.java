package io.streambelief.serving;

import java.time.Duration;
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

/**
 * Reads {@code model-params} from its beginning and keeps following it, applying every record to
 * the {@link ModelStore} and publishing new snapshots after each poll. No consumer group: every
 * server replica reads the whole compacted topic, which always holds the complete latest model.
 */
public final class ParamsConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ParamsConsumer.class);

    private final KafkaConsumer<String, byte[]> consumer;
    private final String topic;
    private final ModelStore store;
    private final Thread thread;
    private volatile boolean running = true;

    public ParamsConsumer(String bootstrapServers, String topic, ModelStore store) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "streambelief-serving");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // Shard records are large; the default 1 MiB per fetch would make freshness wait on round trips.
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(KafkaBroker.MAX_MESSAGE_BYTES));
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.topic = topic;
        this.store = store;
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
                    for (ConsumerRecord<String, byte[]> record : records) {
                        store.apply(record.key(), record.value());
                    }
                    store.publish();
                } catch (WakeupException e) {
                    throw e;
                } catch (RuntimeException e) {
                    // Keep answering with the models we have, and keep trying to follow the topic.
                    LOG.error("Reading {} failed; retrying in a second", topic, e);
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

    /** Waits for the topic to exist (the server may start before the job creates it). */
    private void assignAllPartitions() throws WakeupException {
        boolean told = false;
        while (running) {
            List<PartitionInfo> partitions;
            try {
                partitions = consumer.partitionsFor(topic, Duration.ofSeconds(5));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                partitions = List.of();
            }
            if (partitions != null && !partitions.isEmpty()) {
                List<TopicPartition> assigned = partitions.stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                consumer.assign(assigned);
                consumer.seekToBeginning(assigned);
                LOG.info("Following {} ({} partitions)", topic, assigned.size());
                return;
            }
            if (!told) {
                LOG.info("Waiting for topic {} to exist", topic);
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
