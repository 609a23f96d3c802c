package io.streambelief.deployment.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each mistake below, made in the loaded manifests, is reported as a problem of the object it was
 * made in, naming what is wrong. The manifests have no problem before it is made, and every edit
 * fails unless it changes what it says, so each report is the mistake's own.
 */
class ManifestMutationTest {
    private static final String JOB = "streambelief-training";
    private static final String SERVER = "streambelief-model-server";

    record Mutation(String description, String directory, Consumer<Manifests> change, String resource, String mentions) {
        @Override
        public String toString() {
            return description;
        }
    }

    static Stream<Mutation> mutations() {
        return Stream.of(
                new Mutation("a misspelt field in the model server's Deployment", "base",
                        m -> ManifestEdit.of(m, "Deployment", SERVER).rename("/spec/replicas", "replica"),
                        "Deployment/" + SERVER, "\"replica\""),
                new Mutation("a misspelt field in the FlinkDeployment", "base",
                        m -> ManifestEdit.of(m, "FlinkDeployment", JOB).rename("/spec/job/upgradeMode", "upgradeMod"),
                        "FlinkDeployment/" + JOB, "upgradeMod"),
                new Mutation("a misspelt field in the Kafka", "base",
                        m -> ManifestEdit.of(m, "Kafka", "streambelief")
                                .rename("/spec/entityOperator/topicOperator", "topicOperater"),
                        "Kafka/streambelief", "\"topicOperater\""),
                new Mutation("a misspelt field in a KafkaTopic", "base",
                        m -> ManifestEdit.of(m, "KafkaTopic", "examples").rename("/spec/partitions", "partition"),
                        "KafkaTopic/examples", "\"partition\""),
                new Mutation("a value Strimzi does not know", "base",
                        m -> ManifestEdit.of(m, "KafkaNodePool", "dual-role")
                                .set("/spec/storage/volumes/0/kraftMetadata", "shard"),
                        "KafkaNodePool/dual-role", "/spec/storage/volumes/0/kraftMetadata"),
                new Mutation("a wrong topic name in a KafkaTopic", "base",
                        m -> ManifestEdit.of(m, "KafkaTopic", "model-params").set("/metadata/name", "model-param"),
                        "KafkaTopic/model-param", "model-param"),
                new Mutation("a topic setting other than the code's", "base",
                        m -> ManifestEdit.of(m, "KafkaTopic", "model-params").set("/spec/config/cleanup.policy", "delete"),
                        "KafkaTopic/model-params", "cleanup.policy"),
                new Mutation("a wrong job option", "base",
                        m -> ManifestEdit.of(m, "FlinkDeployment", JOB).replaceElement("/spec/job/args", "--workers", "--worker"),
                        "FlinkDeployment/" + JOB, "--worker"),
                new Mutation("the job on another Kafka", "base",
                        m -> ManifestEdit.of(m, "FlinkDeployment", JOB).replaceElement("/spec/job/args",
                                "streambelief-kafka-bootstrap:9092", "kafka:9092"),
                        "FlinkDeployment/" + JOB, "kafka:9092"),
                new Mutation("a wrong secret name", "base",
                        m -> ManifestEdit.of(m, "Deployment", SERVER).set(
                                "/spec/template/spec/containers/0/env/0/valueFrom/secretKeyRef/name", "streambelief-token"),
                        "Deployment/" + SERVER, "streambelief-token"),
                new Mutation("the server on another port than its container's", "base",
                        m -> ManifestEdit.of(m, "Deployment", SERVER).replaceElement(
                                "/spec/template/spec/containers/0/args", "8501", "8502"),
                        "Deployment/" + SERVER, "8502"),
                new Mutation("a Service port to a container port that does not exist", "base",
                        m -> ManifestEdit.of(m, "Service", SERVER).set("/spec/ports/0/targetPort", "https"),
                        "Service/" + SERVER, "https"),
                new Mutation("a broker that refuses the largest records", "base",
                        m -> ManifestEdit.of(m, "Kafka", "streambelief").set("/spec/kafka/config/message.max.bytes", "1048576"),
                        "Kafka/streambelief", "message.max.bytes"),
                new Mutation("more GPUs requested than Flink is told of", "overlays/gpu",
                        m -> ManifestEdit.of(m, "FlinkDeployment", JOB).set(
                                "/spec/taskManager/podTemplate/spec/containers/0/resources/limits/nvidia.com~1gpu", "2"),
                        "FlinkDeployment/" + JOB, "external-resource.gpu.amount"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mutations")
    void isReportedOnTheObjectItWasMadeIn(Mutation mutation) {
        Manifests manifests = Manifests.load(KubernetesManifestsTest.K8S, mutation.directory());
        assertThat(ManifestCheck.problemsIn(manifests)).as("problems before the mutation").isEmpty();

        Manifests mutated = manifests.copy();
        mutation.change().accept(mutated);

        assertThat(mutated).as("the mutation changes the manifests").isNotEqualTo(manifests);
        assertThat(ManifestCheck.problemsIn(mutated)).anySatisfy(problem -> {
            assertThat(problem.resource()).isEqualTo(mutation.resource());
            assertThat(problem.message()).contains(mutation.mentions());
        });
    }
}
