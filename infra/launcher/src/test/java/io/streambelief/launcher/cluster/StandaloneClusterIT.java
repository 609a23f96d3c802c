package io.streambelief.launcher.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.launcher.local.TopicContents;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.processes.ChildJvm;
import io.streambelief.processes.ProjectHome;
import io.streambelief.processes.broker.KafkaBroker;

/**
 * Fault tolerance on a real multi-process cluster: the job jar, submitted through the REST API to
 * a standalone cluster of two TaskManager processes with one slot each (so the job spans both),
 * loses one TaskManager that runs its subtasks to SIGKILL in the middle of training; the cluster's
 * supervisor starts a replacement process, the job restores from its last checkpoint, every shard
 * still holds every example fed exactly once, and no other TaskManager went down with the killed one.
 */
class StandaloneClusterIT {
    private static final int EXAMPLES = 20_000;
    /** Killed once the model holds this many examples: after a checkpoint, well before the end. */
    private static final int KILL_AT = 5_000;

    @TempDir
    Path work;

    @Test
    void aTaskManagerKilledMidTrainingLosesNoExampleAndAppliesNoneTwice() throws Exception {
        ExampleSet train = FashionMnist.read().train().shuffled(3).take(EXAMPLES);
        Path jobJar = ProjectHome.buildOutput(StandaloneCluster.JOB_JAR, "The job jar");
        List<ChildJvm> processes;
        try (KafkaBroker broker = KafkaBroker.builder(work.resolve("kafka")).start();
                StandaloneCluster cluster = StandaloneCluster.builder(work.resolve("flink"))
                        .taskManagers(2).slotsPerTaskManager(1).start()) {
            List<String> jobOptions = List.of("--bootstrap-servers", broker.bootstrapServers(), "--workers", "2",
                    "--seed", "3", "--checkpoint-interval", "1s");
            // The job's own view of these options, for topic names and the shard count.
            TrainingConfig config = TrainingConfig.builder(broker.bootstrapServers()).workers(2).seed(3).build();

            JobID job = cluster.submit(jobJar, TrainingJobCommand.class.getName(), jobOptions);
            awaitStatus(cluster, job, "RUNNING", Duration.ofSeconds(90));
            try (ExampleFeeder feeder = new ExampleFeeder(broker.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(train.examples(), 1, n -> {});
            }

            long appliedAtKill;
            StandaloneCluster.KilledTaskManager killed;
            try (PublishedShards shards = new PublishedShards(broker.bootstrapServers(),
                    config.topics().modelParams(), config.modelId(), config.layout().shardCount())) {
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                while (shards.poll(Duration.ofMillis(200)).minApplied() < KILL_AT
                        || cluster.rest().checkpoints(job).completed() < 1) {
                    assertThat(System.nanoTime()).as("training reached %d examples in time", KILL_AT)
                            .isLessThan(deadline);
                }
                appliedAtKill = shards.progress().minApplied();
                killed = cluster.killTaskManagerRunning(job);
                assertThat(ProcessHandle.of(killed.pid())).as("the killed TaskManager is gone").isEmpty();

                deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                while (shards.poll(Duration.ofMillis(500)).minApplied() < EXAMPLES) {
                    assertThat(System.nanoTime()).as("all %d examples trained after the restore (now %s)", EXAMPLES,
                            shards.progress()).isLessThan(deadline);
                }
            }

            assertThat(appliedAtKill).as("killed in the middle of training").isLessThan(EXAMPLES);
            assertThat(cluster.rest().failures(job)).as("the job failed when it lost the TaskManager").isNotEmpty();
            assertThat(cluster.rest().checkpoints(job).restored()).as("and restored from a checkpoint")
                    .isGreaterThanOrEqualTo(1);
            assertThat(cluster.rest().jobStatus(job)).isEqualTo("RUNNING");
            assertThat(cluster.unexpectedExits()).as("TaskManagers that ended although only %s was killed",
                    killed.resourceId()).isEmpty();
            Map<Integer, ParamUpdate> latest = new HashMap<>();
            TopicContents.publishedShards(broker.bootstrapServers(), config)
                    .forEach(update -> latest.put(update.shardId(), update));
            assertThat(latest).hasSize(config.layout().shardCount());
            assertThat(latest.values()).allSatisfy(shard -> assertThat(shard.examplesApplied())
                    .as("examples in shard %d: none lost, none twice", shard.shardId()).isEqualTo(EXAMPLES));
            processes = cluster.processes();
        }
        assertThat(processes).as("the JobManager, two TaskManagers and the replacement").hasSize(4)
                .noneMatch(ChildJvm::isAlive);
    }

    private static void awaitStatus(StandaloneCluster cluster, JobID job, String status, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cluster.rest().jobStatus(job).equals(status)) {
            assertThat(System.nanoTime()).as("job %s reached %s", job, status).isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
