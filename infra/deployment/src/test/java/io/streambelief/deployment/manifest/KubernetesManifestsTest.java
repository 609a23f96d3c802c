package io.streambelief.deployment.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.model.trainer.EngineChoice;

class KubernetesManifestsTest {
    static final Path K8S = Path.of("..", "k8s");

    @Test
    void baseHasNoProblems() {
        assertThat(ManifestCheck.problemsIn(Manifests.load(K8S, "base"))).isEmpty();
    }

    @Test
    void gpuOverlayHasNoProblems() {
        assertThat(ManifestCheck.problemsIn(Manifests.load(K8S, "overlays/gpu"))).isEmpty();
    }

    @Test
    void baseDeploysKafkaTheTrainingJobAndTheModelServer() {
        Manifests base = Manifests.load(K8S, "base");

        assertThat(base.all()).extracting(Manifest::kind).containsOnly("Kafka", "KafkaNodePool", "KafkaTopic",
                "Secret", "FlinkDeployment", "Deployment", "Service", "PodDisruptionBudget");
        assertThat(base.ofKind("KafkaTopic")).hasSize(9);
        assertThat(base.ofKind("Secret")).extracting(Manifest::name)
                .containsExactlyInAnyOrder("streambelief-flink-s3", "streambelief-model-server-auth");
    }

    @Test
    void gpuOverlayRunsTheWorkersOnTheCudaEngineWithOneGpuPerTaskManager() {
        Manifests base = Manifests.load(K8S, "base");
        Manifests gpu = Manifests.load(K8S, "overlays/gpu");
        Manifest job = gpu.get("FlinkDeployment", "streambelief-training");

        TrainingConfig config = TrainingJobManifest.config(job).orElseThrow();
        assertThat(config.engine()).isEqualTo(EngineChoice.CUDA);
        assertThat(TrainingJobManifest.flinkConfiguration(job, "external-resource.gpu.amount")).contains("1");
        assertThat(TrainingJobManifest.flinkConfiguration(job, "taskmanager.numberOfTaskSlots")).contains("1");
        assertThat(TrainingJobManifest.flinkConfiguration(job, "containerized.taskmanager.env.CUDA_DEVICE_ORDER"))
                .contains("PCI_BUS_ID");
        assertThat(job.source()).isEqualTo("base/training-job.yaml, patched by overlays/gpu/kustomization.yaml");
        List<Manifest> others = gpu.all().stream().filter(manifest -> !manifest.is("FlinkDeployment")).toList();
        assertThat(others).isEqualTo(base.all().stream().filter(manifest -> !manifest.is("FlinkDeployment")).toList());
    }
}
