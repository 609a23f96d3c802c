package io.streambelief.flink;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.Test;

import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.parameters.ModelReplica;

/**
 * The job jar is what users submit to their own Flink cluster: it must carry our code, the Kafka
 * connector and kafka-clients, start the job by itself, and leave Flink, Log4j and DL4J/ND4J with
 * its native libraries to the cluster's classpath — a second copy of those breaks class loading
 * or doubles hundreds of megabytes. What only runs the system on one machine (launchers, the
 * embedded broker, child processes, data sets and their feeder) stays out too. Read from
 * {@code package}'s output, as a user gets it.
 */
class JobJarIT {
    private static final Path JOB_JAR = Path.of("target/streambelief-job.jar");

    @Test
    void theJobJarCarriesTheJobAndTheConnectorAndLeavesOutTheClustersLibrariesAndTheLaunchers() throws Exception {
        assertThat(JOB_JAR).as("built by package").exists();
        try (JarFile jar = new JarFile(JOB_JAR.toFile())) {
            List<String> entries = jar.stream().map(ZipEntry::getName).toList();

            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(TrainingJobCommand.class.getName());
            assertThat(entries).contains(entryOf(TrainingJob.class), entryOf(ModelReplica.class),
                    entryOf(Topics.class),
                    "org/apache/flink/connector/kafka/sink/KafkaSink.class",
                    "org/apache/kafka/clients/producer/KafkaProducer.class",
                    "picocli/CommandLine.class");
            assertThat(entries).noneMatch(entry -> entry.startsWith("org/apache/flink/runtime/")
                    || entry.startsWith("org/apache/flink/streaming/api/")
                    || entry.startsWith("org/apache/logging/log4j/")
                    || entry.startsWith("org/deeplearning4j/")
                    || entry.startsWith("org/nd4j/")
                    || entry.startsWith("org/bytedeco/"));
            assertThat(entries).noneMatch(entry -> entry.startsWith("io/streambelief/launcher/")
                    || entry.startsWith("io/streambelief/processes/")
                    || entry.startsWith("io/streambelief/kafka/data/")
                    || entry.startsWith("io/streambelief/kafka/feed/")
                    || entry.startsWith("org/apache/commons/compress/"));
            assertThat(Files.size(JOB_JAR)).as("bytes").isLessThan(64L * 1024 * 1024);
        }
    }

    /** Named from the class itself, so that moving a class to another package moves the check with it. */
    private static String entryOf(Class<?> type) {
        return type.getName().replace('.', '/') + ".class";
    }
}
