package io.streambelief.deployment.manifest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.apache.flink.util.TimeUtils;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;

/**
 * The FlinkDeployment runs our job as it takes its options, against the Kafka of the manifests, with
 * the durable state a savepoint upgrade and Kubernetes HA need.
 */
final class TrainingJobCheck implements Check {
    /** Kafka's own default of {@code transaction.max.timeout.ms}. */
    private static final Duration BROKER_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);
    private static final List<String> DURABLE_DIRECTORIES = List.of(
            "execution.checkpointing.dir", "execution.checkpointing.savepoint-dir", "high-availability.storageDir");

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        List<Manifest> jobs = manifests.ofKind("FlinkDeployment");
        if (jobs.isEmpty()) {
            return List.of(new Problem("-", "FlinkDeployment", "no FlinkDeployment: nothing trains"));
        }
        List<Problem> problems = new ArrayList<>();
        for (Manifest job : jobs) {
            problems.addAll(problemsOf(job, manifests));
        }
        return problems;
    }

    private static List<Problem> problemsOf(Manifest job, Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        String entryClass = job.at("/spec/job/entryClass").asText();
        if (!entryClass.equals(TrainingJobCommand.class.getName())) {
            problems.add(Problem.in(job, "job.entryClass is '" + entryClass + "', not " + TrainingJobCommand.class.getName()));
        }
        flinkConfiguration(job, problems);
        Optional<String> parseError = TrainingJobManifest.parseError(job);
        if (parseError.isPresent()) {
            problems.add(Problem.in(job, "job.args " + TrainingJobManifest.args(job) + " are refused by the job: "
                    + parseError.get()));
            return problems;
        }
        TrainingConfig config = TrainingJobManifest.config(job).orElseThrow();
        Optional<KafkaCluster> kafka = KafkaCluster.in(manifests);
        if (kafka.isEmpty()) {
            problems.add(Problem.in(job, "no Kafka in the manifests for --bootstrap-servers " + config.bootstrapServers()));
        } else {
            if (!kafka.get().plainBootstrapServers().contains(config.bootstrapServers())) {
                problems.add(Problem.in(job, "--bootstrap-servers " + config.bootstrapServers() + " is none of Kafka/"
                        + kafka.get().name() + "'s plain listeners " + kafka.get().plainBootstrapServers()));
            }
            transactionTimeout(job, config, kafka.get(), problems);
        }
        problems.addAll(new TopicCheck(job, config).problemsIn(manifests));
        int parallelism = job.at("/spec/job/parallelism").asInt(1);
        int widest = Math.max(config.workers(), config.parameterServers());
        if (parallelism < widest) {
            problems.add(Problem.in(job, "job.parallelism " + parallelism + " is below the job's widest operator ("
                    + widest + " subtasks): the operator would size the TaskManagers for too few slots"));
        }
        TrainingJobManifest.flinkConfiguration(job, "execution.checkpointing.interval").ifPresent(interval -> {
            if (!TimeUtils.parseDuration(interval).equals(config.checkpointInterval())) {
                problems.add(Problem.in(job, "execution.checkpointing.interval " + interval + " differs from the job's "
                        + "--checkpoint-interval " + config.checkpointInterval() + ", which the job sets"));
            }
        });
        return problems;
    }

    private static void flinkConfiguration(Manifest job, List<Problem> problems) {
        if (!TrainingJobManifest.flinkConfiguration(job, "state.backend.type").orElse("").equals("rocksdb")) {
            problems.add(Problem.in(job, "state.backend.type is not rocksdb: the parameter servers' state would live on the heap"));
        }
        for (String key : DURABLE_DIRECTORIES) {
            if (TrainingJobManifest.flinkConfiguration(job, key).filter(dir -> dir.contains("://")).isEmpty()) {
                problems.add(Problem.in(job, key + " is not set to a durable file system URI: "
                        + "savepoint upgrades and Kubernetes HA need one"));
            }
        }
    }

    /** The job's exactly-once sinks ask for transactions of max(10 min, 3 checkpoint intervals); brokers refuse longer ones than their limit. */
    private static void transactionTimeout(Manifest job, TrainingConfig config, KafkaCluster kafka, List<Problem> problems) {
        Duration needed = Collections.max(List.of(Duration.ofMinutes(10), config.checkpointInterval().multipliedBy(3)));
        Duration limit = kafka.config("transaction.max.timeout.ms").map(ms -> Duration.ofMillis(Long.parseLong(ms)))
                .orElse(BROKER_TRANSACTION_TIMEOUT);
        if (needed.compareTo(limit) > 0) {
            problems.add(Problem.in(job, "the job's Kafka transactions time out after " + needed + ", more than Kafka/"
                    + kafka.name() + "'s transaction.max.timeout.ms " + limit.toMillis()));
        }
    }
}
