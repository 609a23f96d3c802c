package io.streambelief.flink.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.ParamUpdateDeserializer;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.record.ParamUpdate;

/**
 * Follows the model's records on model-params from the beginning, in a thread of its own, and
 * hands each to the worker as a mail of its task's mailbox, so the worker takes them in on its
 * own thread — also while it waits inside {@code processElement}. At most {@value #IN_FLIGHT}
 * records wait in the mailbox; then the thread waits for the worker.
 *
 * <p>A restored worker starts from its checkpointed replica and reads the topic from the
 * beginning again: records older than the replica are harmless (the newest of each shard comes
 * last on the compacted, single-partition topic). Records that were on the topic when the
 * follower started and hold pushes made after the checkpoint were published by the attempt that
 * failed, and are skipped ({@link RestoredReplicas#withinCheckpoint}): the restored servers will
 * publish those steps again, and in BSP a worker taking one of them would push its next step
 * into a step the servers are still gathering.
 */
final class ParameterFollower implements AutoCloseable {
    private static final int IN_FLIGHT = 16;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String topic;
    private final ParamUpdateDeserializer deserializer;
    private final MailboxExecutor mailbox;
    private final Consumer<ParamUpdate> worker;
    private final RestoredReplicas restored;
    private final List<TopicPartition> partitions;
    /** Per partition, the offset at which records of this attempt begin. */
    private final Map<TopicPartition, Long> startOffsets;
    private final Semaphore permits = new Semaphore(IN_FLIGHT);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile RuntimeException failure;

    /**
     * Finds where the topic ends now, before the worker pushes anything: what comes later is this
     * attempt's.
     */
    ParameterFollower(TrainingConfig config, int subtask, MailboxExecutor mailbox, RestoredReplicas restored,
            Consumer<ParamUpdate> worker) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "streambelief-" + config.modelId() + "-worker-" + subtask);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(Topics.MAX_RECORD_BYTES));
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.topic = config.topics().modelParams();
        this.deserializer = new ParamUpdateDeserializer(config.modelId());
        this.mailbox = mailbox;
        this.worker = worker;
        this.restored = restored;
        try {
            this.partitions = consumer.partitionsFor(topic, Duration.ofMinutes(1)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            this.startOffsets = consumer.endOffsets(partitions, Duration.ofMinutes(1));
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            throw e;
        }
        this.thread = new Thread(this::run, "parameter-follower-" + subtask);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Rethrows, on the worker's thread, what stopped the follower. */
    void check() {
        if (failure != null) {
            throw failure;
        }
    }

    private void run() {
        Collector<ParamUpdate> deliver = new Collector<>() {
            @Override
            public void collect(ParamUpdate update) {
                try {
                    while (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                        if (!running) {
                            throw new WakeupException();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new WakeupException();
                }
                mailbox.execute(() -> {
                    try {
                        worker.accept(update);
                    } finally {
                        permits.release();
                    }
                }, "parameter update");
            }

            @Override
            public void close() {}
        };
        Collector<ParamUpdate> deliverWithinCheckpoint = new Collector<>() {
            @Override
            public void collect(ParamUpdate update) {
                if (restored.withinCheckpoint(update.pushesApplied())) {
                    deliver.collect(update);
                }
            }

            @Override
            public void close() {}
        };
        try {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    boolean earlier = record.offset() < startOffsets.get(new TopicPartition(record.topic(),
                            record.partition()));
                    deserializer.deserialize(record, earlier ? deliverWithinCheckpoint : deliver);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (running) {
                failure = new IllegalStateException("Following " + topic + " failed", e);
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
