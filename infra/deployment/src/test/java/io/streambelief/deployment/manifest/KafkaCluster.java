package io.streambelief.deployment.manifest;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.kafka.listener.GenericKafkaListener;
import io.strimzi.api.kafka.model.kafka.listener.KafkaListenerType;

/** What clients inside the namespace need to know of the Strimzi Kafka in the manifests. */
final class KafkaCluster {
    private final Manifest manifest;
    private final Kafka kafka;

    private KafkaCluster(Manifest manifest) {
        this.manifest = manifest;
        this.kafka = manifest.as(Kafka.class);
    }

    static Optional<KafkaCluster> in(Manifests manifests) {
        return manifests.ofKind("Kafka").stream().findFirst().map(KafkaCluster::new);
    }

    String name() {
        return manifest.name();
    }

    Manifest manifest() {
        return manifest;
    }

    /** {@code <cluster>-kafka-bootstrap:<port>} of each plain internal listener: the Service Strimzi creates for it. */
    List<String> plainBootstrapServers() {
        List<GenericKafkaListener> listeners = kafka.getSpec() == null || kafka.getSpec().getKafka() == null
                || kafka.getSpec().getKafka().getListeners() == null ? List.of() : kafka.getSpec().getKafka().getListeners();
        return listeners.stream()
                .filter(listener -> listener.getType() == KafkaListenerType.INTERNAL && !listener.isTls()
                        && listener.getAuth() == null)
                .map(listener -> manifest.name() + "-kafka-bootstrap:" + listener.getPort())
                .toList();
    }

    /** A broker setting as the manifest gives it, or empty when it leaves it to Kafka's default. */
    Optional<String> config(String key) {
        Map<String, Object> config = kafka.getSpec() == null || kafka.getSpec().getKafka() == null ? null
                : kafka.getSpec().getKafka().getConfig();
        return config == null || !config.containsKey(key) ? Optional.empty() : Optional.of(String.valueOf(config.get(key)));
    }
}
