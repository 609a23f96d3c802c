package io.streambelief.launcher.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.launcher.local.TopicContents;
import io.streambelief.model.engine.cuda.CudaRuntime;
import io.streambelief.processes.ProjectHome;
import io.streambelief.processes.broker.KafkaBroker;

/**
 * GPU TaskManagers on a real standalone cluster, without a GPU: one TaskManager with two slots
 * declares two GPUs through Flink's external-resource framework, whose indexes a discovery script
 * reports as 3 and 7 (indexes no subtask number could produce by chance). The job jar, run with
 * {@code --engine auto}, binds each of its two workers to one of them, and each reports its own in
 * its training metrics; with no usable CUDA here the workers fall back to the CPU engine and the
 * TaskManager's log says why in one line.
 */
class GpuTaskManagerIT {
    @TempDir
    Path work;

    @Test
    void eachWorkerBindsToItsOwnOfTheTaskManagersGpus() throws Exception {
        Path script = work.resolve("discover-gpus.sh");
        Files.writeString(script, "#!/bin/sh\n# Called as: discover-gpus.sh <amount>\necho 3,7\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jobJar = ProjectHome.buildOutput(StandaloneCluster.JOB_JAR, "The job jar");

        try (KafkaBroker broker = KafkaBroker.builder(work.resolve("kafka")).start();
                StandaloneCluster cluster = StandaloneCluster.builder(work.resolve("flink"))
                        .taskManagers(1).slotsPerTaskManager(2).taskManagerMemory("2048m").gpus(2, script).start()) {
            TrainingConfig config = TrainingConfig.builder(broker.bootstrapServers()).workers(2).seed(3).build();
            JobID job = cluster.submit(jobJar, TrainingJobCommand.class.getName(),
                    List.of("--bootstrap-servers", broker.bootstrapServers(), "--workers", "2", "--seed", "3",
                            "--engine", "auto", "--warmstart", "0"));
            try (ExampleFeeder feeder = new ExampleFeeder(broker.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(FashionMnist.read().train().take(3_000).examples(), 1, n -> {});
            }

            Map<Integer, TrainingMetrics> byWorker = new HashMap<>();
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (byWorker.size() < 2) {
                assertThat(System.nanoTime()).as("both workers reported (job %s is %s; so far %s)", job,
                        cluster.rest().jobStatus(job), byWorker).isLessThan(deadline);
                Thread.sleep(500);
                TopicContents.all(broker.bootstrapServers(), config.topics().trainingMetrics()).forEach(record -> {
                    TrainingMetrics metrics = TrainingMetrics.fromJson(record.value());
                    byWorker.put(metrics.worker(), metrics);
                });
            }

            assertThat(byWorker.values()).extracting(TrainingMetrics::gpu).as("each worker has its own GPU")
                    .containsExactlyInAnyOrder(3, 7);
            CudaRuntime.Availability cuda = CudaRuntime.probe();
            if (!cuda.usable()) {
                assertThat(byWorker.values()).extracting(TrainingMetrics::engine).containsOnly("cpu");
                String log = Files.readString(work.resolve("flink/logs/taskmanager-1.log"));
                assertThat(log).contains("GPUs of this TaskManager: [3, 7]")
                        .contains("computes gradients with cpu (DL4J); CUDA not used: " + cuda.reason());
            }
        }
    }
}
