package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.streambelief.model.trainer.EngineChoice;

/**
 * TaskManagers that declare GPUs ask Kubernetes for as many as they tell Flink about, through our
 * driver; a job on the CUDA engine runs on TaskManagers that have GPUs.
 */
final class GpuCheck implements Check {
    static final String RESOURCE = "nvidia.com/gpu";
    static final String DRIVER_FACTORY = "io.streambelief.gpu.GpuDriverFactory";
    private static final String CONTAINER = "flink-main-container";

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        for (Manifest job : manifests.ofKind("FlinkDeployment")) {
            boolean declared = TrainingJobManifest.flinkConfiguration(job, "external-resources")
                    .map(names -> Arrays.asList(names.split(";")).contains("gpu")).orElse(false);
            Optional<String> amount = TrainingJobManifest.flinkConfiguration(job, "external-resource.gpu.amount");
            Optional<String> limit = taskManagerLimit(job);
            if (declared || limit.isPresent()) {
                if (!declared) {
                    problems.add(Problem.in(job, "TaskManagers get " + RESOURCE + " " + limit.get()
                            + " but external-resources does not name gpu: the workers would not see them"));
                }
                if (!amount.equals(limit)) {
                    problems.add(Problem.in(job, "external-resource.gpu.amount " + amount.orElse("(unset)")
                            + " differs from the TaskManagers' " + RESOURCE + " limit " + limit.orElse("(unset)")));
                }
                expect(job, "external-resource.gpu.driver-factory.class", DRIVER_FACTORY, problems);
                expect(job, "external-resource.gpu.kubernetes.config-key", RESOURCE, problems);
            }
            Optional<EngineChoice> engine = TrainingJobManifest.config(job).map(config -> config.engine());
            if (engine.equals(Optional.of(EngineChoice.CUDA)) && !declared) {
                problems.add(Problem.in(job, "--engine cuda, but the TaskManagers declare no GPUs"));
            }
        }
        return problems;
    }

    private static void expect(Manifest job, String key, String value, List<Problem> problems) {
        Optional<String> actual = TrainingJobManifest.flinkConfiguration(job, key);
        if (!actual.equals(Optional.of(value))) {
            problems.add(Problem.in(job, key + " is " + actual.orElse("(unset)") + ", not " + value));
        }
    }

    /** The TaskManager pod template's GPU limit, else the common pod template's. */
    private static Optional<String> taskManagerLimit(Manifest job) {
        for (String template : List.of("/spec/taskManager/podTemplate", "/spec/podTemplate")) {
            for (JsonNode container : job.at(template + "/spec/containers")) {
                JsonNode limit = container.path("resources").path("limits").path(RESOURCE);
                if (container.path("name").asText().equals(CONTAINER) && !limit.isMissingNode()) {
                    return Optional.of(limit.asText());
                }
            }
        }
        return Optional.empty();
    }
}
