package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.streambelief.kafka.topic.Topics;

/**
 * The Kafka cluster takes the records our code writes, and has the brokers its replication
 * settings and topics ask for.
 */
final class KafkaCheck implements Check {

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        Optional<KafkaCluster> found = KafkaCluster.in(manifests);
        if (found.isEmpty()) {
            return List.of(new Problem("-", "Kafka", "no Kafka in the manifests"));
        }
        KafkaCluster kafka = found.get();
        List<Problem> problems = new ArrayList<>();
        String maxRecord = Integer.toString(Topics.MAX_RECORD_BYTES);
        for (String key : List.of("message.max.bytes", "replica.fetch.max.bytes")) {
            if (!kafka.config(key).orElse("").equals(maxRecord)) {
                problems.add(Problem.in(kafka.manifest(), key + " is " + kafka.config(key).orElse("Kafka's default")
                        + ", not Topics.MAX_RECORD_BYTES " + maxRecord + ": shards and snapshot chunks would be refused"));
            }
        }
        int brokers = brokers(manifests, kafka, problems);
        if (brokers == 0) {
            problems.add(Problem.in(kafka.manifest(), "no KafkaNodePool with role broker is labelled strimzi.io/cluster: "
                    + kafka.name()));
            return problems;
        }
        for (String key : List.of("default.replication.factor", "offsets.topic.replication.factor",
                "transaction.state.log.replication.factor")) {
            int replicas = Integer.parseInt(kafka.config(key).orElse("1"));
            if (replicas > brokers) {
                problems.add(Problem.in(kafka.manifest(), key + " " + replicas + " exceeds the " + brokers + " brokers"));
            }
        }
        for (Manifest topic : manifests.ofKind("KafkaTopic")) {
            int replicas = topic.at("/spec/replicas").asInt(brokers);
            int minInSync = topic.at("/spec/config").path("min.insync.replicas")
                    .asInt(Integer.parseInt(kafka.config("min.insync.replicas").orElse("1")));
            if (replicas > brokers) {
                problems.add(Problem.in(topic, "replicas " + replicas + " exceeds the " + brokers + " brokers"));
            }
            if (minInSync >= replicas && replicas > 1) {
                problems.add(Problem.in(topic, "min.insync.replicas " + minInSync + " of " + replicas
                        + " replicas: one broker down stops every write"));
            }
        }
        return problems;
    }

    private static int brokers(Manifests manifests, KafkaCluster kafka, List<Problem> problems) {
        int brokers = 0;
        for (Manifest pool : manifests.ofKind("KafkaNodePool")) {
            String cluster = pool.at("/metadata/labels").path("strimzi.io/cluster").asText();
            if (!cluster.equals(kafka.name())) {
                problems.add(Problem.in(pool, "label strimzi.io/cluster is '" + cluster + "', not Kafka/" + kafka.name()));
                continue;
            }
            boolean broker = false;
            for (var role : pool.at("/spec/roles")) {
                broker |= role.asText().equals("broker");
            }
            if (broker) {
                brokers += pool.at("/spec/replicas").asInt(0);
            }
        }
        return brokers;
    }
}
