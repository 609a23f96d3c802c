package io.streambelief.deployment.manifest;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.apache.kafka.clients.admin.NewTopic;

import com.fasterxml.jackson.databind.JsonNode;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.topic.Topics;

/**
 * The KafkaTopics are the topics the job creates when they are missing ({@link Topics#definitions}
 * with its topic names and {@code --workers} partitions of examples): the same names, partitions
 * and configuration, so that the job finds them as it would have made them.
 */
final class TopicCheck {
    /** Settings the code leaves to the broker that a replicated cluster may state per topic. */
    private static final Set<String> CLUSTER_SETTINGS = Set.of("min.insync.replicas");

    private final Manifest job;
    private final TrainingConfig config;

    TopicCheck(Manifest job, TrainingConfig config) {
        this.job = job;
        this.config = config;
    }

    List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        List<NewTopic> definitions = Topics.definitions(config.topics(), config.workers());
        Optional<KafkaCluster> kafka = KafkaCluster.in(manifests);
        for (NewTopic definition : definitions) {
            Optional<Manifest> topic = manifests.ofKind("KafkaTopic").stream()
                    .filter(manifest -> topicName(manifest).equals(definition.name())).findFirst();
            if (topic.isEmpty()) {
                problems.add(new Problem(job.source(), "KafkaTopic/" + definition.name(), "missing: " + job.id()
                        + " uses topic " + definition.name() + ", partitions: " + definition.numPartitions()));
            } else {
                problems.addAll(compare(topic.get(), definition, kafka));
            }
        }
        Set<String> names = Set.copyOf(definitions.stream().map(NewTopic::name).toList());
        for (Manifest topic : manifests.ofKind("KafkaTopic")) {
            if (!names.contains(topicName(topic))) {
                problems.add(Problem.in(topic, "topic " + topicName(topic) + " is none of " + job.id()
                        + "'s topics " + config.topics().all()));
            }
        }
        return problems;
    }

    private List<Problem> compare(Manifest topic, NewTopic definition, Optional<KafkaCluster> kafka) {
        List<Problem> problems = new ArrayList<>();
        String cluster = topic.at("/metadata/labels").path("strimzi.io/cluster").asText();
        if (kafka.isPresent() && !cluster.equals(kafka.get().name())) {
            problems.add(Problem.in(topic, "label strimzi.io/cluster is '" + cluster + "', not Kafka/" + kafka.get().name()
                    + ": the topic operator would not create it"));
        }
        int partitions = topic.at("/spec/partitions").asInt(-1);
        if (partitions != definition.numPartitions()) {
            problems.add(Problem.in(topic, "partitions " + partitions + ", the job's code makes "
                    + definition.numPartitions() + " (with --workers " + config.workers() + ")"));
        }
        JsonNode config = topic.at("/spec/config");
        Map<String, String> wanted = definition.configs() == null ? Map.of() : definition.configs();
        wanted.forEach((key, value) -> {
            JsonNode actual = config.path(key);
            if (actual.isMissingNode()) {
                problems.add(Problem.in(topic, "config " + key + " is missing; the job's code sets " + value));
            } else if (!sameValue(actual.asText(), value)) {
                problems.add(Problem.in(topic, "config " + key + " is " + actual.asText() + ", the job's code sets " + value));
            }
        });
        config.fieldNames().forEachRemaining(key -> {
            if (!wanted.containsKey(key) && !CLUSTER_SETTINGS.contains(key)) {
                problems.add(Problem.in(topic, "config " + key + " is not set by the job's code; only "
                        + CLUSTER_SETTINGS + " may be added"));
            }
        });
        return problems;
    }

    static String topicName(Manifest topic) {
        JsonNode name = topic.at("/spec/topicName");
        return name.isTextual() ? name.asText() : topic.name();
    }

    private static boolean sameValue(String actual, String wanted) {
        if (Objects.equals(actual, wanted)) {
            return true;
        }
        try {
            return new BigDecimal(actual).compareTo(new BigDecimal(wanted)) == 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
