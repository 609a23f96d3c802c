package io.streambelief.kafka.topic;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/** Creates the topics of a deployment with the configuration each needs. */
public final class Topics {
    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);

    /** Partitions of the examples topic by default: one per worker of the default local run. */
    public static final int DEFAULT_EXAMPLE_PARTITIONS = 2;

    /** How much of {@code model-snapshots} the broker keeps: some hundred snapshots of the default model. */
    public static final long SNAPSHOT_RETENTION_BYTES = 512L * 1024 * 1024;

    /**
     * The largest record any of our topics takes, and so what every producer may send and every
     * consumer must fetch; the embedded broker is configured with it. Parameter shards and
     * snapshot chunks stay well below.
     */
    public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    private Topics() {}

    /**
     * The {@code model-params} topic is compacted: it always holds the latest record of every
     * shard, so any new reader gets the whole current model by reading it from the beginning.
     * Segments roll often so the cleaner can compact them; records may be as large as a shard.
     */
    public static Map<String, String> modelParamsConfig() {
        return Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.SEGMENT_MS_CONFIG, Long.toString(TimeUnit.MINUTES.toMillis(10)),
                TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.1",
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
    }

    /**
     * The {@code model-snapshots} topic keeps whole snapshots, one per completed checkpoint, for
     * as long as its size allows: readers want the latest, history is for rollbacks. Segments are
     * smaller than the retained size, so old ones are deleted while new ones are written.
     */
    public static Map<String, String> modelSnapshotsConfig() {
        return Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(SNAPSHOT_RETENTION_BYTES),
                TopicConfig.SEGMENT_BYTES_CONFIG, Long.toString(SNAPSHOT_RETENTION_BYTES / 4),
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
    }

    /**
     * The {@code embedding-rows} topic is compacted like {@code model-params}: the latest value of
     * every row a sparse model has trained, so a new serving replica reads the whole table from it.
     */
    public static Map<String, String> embeddingRowsConfig() {
        return Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.SEGMENT_MS_CONFIG, Long.toString(TimeUnit.MINUTES.toMillis(10)),
                TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.1");
    }

    /**
     * The {@code model-param-deltas} topic is read as it is written: by the workers of running
     * jobs, and after a restore from the checkpointed offsets onward, so it keeps deltas for
     * an hour and at most 1 GiB; a worker restored from an older checkpoint waits for each
     * shard's next full delta.
     */
    public static Map<String, String> modelParamDeltasConfig() {
        return Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                TopicConfig.RETENTION_MS_CONFIG, Long.toString(TimeUnit.HOURS.toMillis(1)),
                TopicConfig.RETENTION_BYTES_CONFIG, Long.toString(1L << 30),
                TopicConfig.SEGMENT_BYTES_CONFIG, Long.toString(1L << 27),
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
    }

    /**
     * The {@code dead-letter} topic states its record limit rather than inheriting the broker's:
     * dead letters are cut to fit it, so the job's dead-letter sink reads the limit from here.
     */
    public static Map<String, String> deadLetterConfig() {
        return Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
    }

    /**
     * The deployment's topics as {@link #ensure} creates them: name, partitions and configuration,
     * replicated once (one broker by default; a cluster's own topics choose their replication).
     * The Kubernetes manifests' KafkaTopics are checked against this list.
     */
    public static List<NewTopic> definitions(TopicNames names, int examplePartitions) {
        if (examplePartitions < 1) {
            throw new IllegalArgumentException("The examples topic needs at least one partition, got " + examplePartitions);
        }
        return List.of(
                new NewTopic(names.examples(), examplePartitions, (short) 1),
                new NewTopic(names.modelParams(), 1, (short) 1).configs(modelParamsConfig()),
                new NewTopic(names.modelSnapshots(), 1, (short) 1).configs(modelSnapshotsConfig()),
                new NewTopic(names.deadLetter(), 1, (short) 1).configs(deadLetterConfig()),
                new NewTopic(names.trainingMetrics(), 1, (short) 1),
                new NewTopic(names.embeddingGradients(), examplePartitions, (short) 1),
                new NewTopic(names.embeddingRows(), 1, (short) 1).configs(embeddingRowsConfig()),
                new NewTopic(names.modelParamDeltas(), 1, (short) 1).configs(modelParamDeltasConfig()),
                new NewTopic(names.clientUpdates(), 1, (short) 1).configs(clientUpdatesConfig()));
    }

    /**
     * The {@code client-updates} topic takes records as large as a shard: a client's update is the
     * whole model's change. One partition: the aggregator reads the updates in the order they came.
     */
    public static Map<String, String> clientUpdatesConfig() {
        return Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
    }

    /**
     * Creates whichever of the deployment's topics do not exist yet. Existing topics are left as
     * they are (a warning names any whose partition count differs from what was asked).
     *
     * @return the partitions of the examples topic
     */
    public static int ensure(Admin admin, TopicNames names, int examplePartitions)
            throws ExecutionException, InterruptedException, TimeoutException {
        List<NewTopic> wanted = definitions(names, examplePartitions);
        Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        List<NewTopic> missing = new ArrayList<>();
        for (NewTopic topic : wanted) {
            if (!existing.contains(topic.name())) {
                missing.add(topic);
            }
        }
        try {
            admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
        int partitions = examplePartitions;
        if (existing.contains(names.examples())) {
            TopicDescription examples = admin.describeTopics(List.of(names.examples())).allTopicNames()
                    .get(30, TimeUnit.SECONDS).get(names.examples());
            partitions = examples.partitions().size();
            if (partitions != examplePartitions) {
                LOG.warn("Topic {} exists with {} partitions, not {}; it is used as it is", names.examples(),
                        partitions, examplePartitions);
            }
        }
        if (!missing.isEmpty()) {
            awaitLeaders(admin, missing.stream().map(NewTopic::name).toList());
            LOG.info("Created topics {}", missing.stream().map(NewTopic::name).toList());
        }
        return partitions;
    }

    /** A new topic's partitions take a moment to get a leader; clients that write at once would only retry. */
    private static void awaitLeaders(Admin admin, List<String> topics)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            boolean ready;
            try {
                ready = admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values().stream()
                        .flatMap(topic -> topic.partitions().stream())
                        .allMatch(partition -> partition.leader() != null && !partition.leader().isEmpty());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                // The broker's metadata does not show the new topic yet.
                ready = false;
            }
            if (ready) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("Topics " + topics + " have partitions without a leader after 30 s");
            }
            Thread.sleep(50);
        }
    }
}
