package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.ObjectMeta;

/**
 * Each object against its own type: Kubernetes' and Strimzi's model classes, and the operator's
 * schema for the FlinkDeployment, all refusing fields they do not declare.
 */
final class SchemaCheck implements Check {

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        for (Manifest manifest : manifests.all()) {
            if (manifest.is("FlinkDeployment")) {
                problems.addAll(flinkDeployment(manifest));
                continue;
            }
            Optional<Class<?>> type = ResourceTypes.of(manifest);
            if (type.isEmpty()) {
                problems.add(Problem.in(manifest, "unknown type " + manifest.apiVersion() + " " + manifest.kind()));
                continue;
            }
            for (String violation : StrictBinding.violations(manifest.document(), type.get())) {
                problems.add(Problem.in(manifest, "not a valid " + manifest.kind() + ": " + violation));
            }
        }
        return problems;
    }

    private static List<Problem> flinkDeployment(Manifest manifest) {
        List<Problem> problems = new ArrayList<>();
        if (!manifest.apiVersion().equals(FlinkDeploymentSchema.API_VERSION)) {
            problems.add(Problem.in(manifest, "apiVersion " + manifest.apiVersion() + ", not " + FlinkDeploymentSchema.API_VERSION));
        }
        for (String violation : FlinkDeploymentSchema.violations(manifest.document())) {
            problems.add(Problem.in(manifest, "not a valid FlinkDeployment: " + violation));
        }
        for (String violation : StrictBinding.violations(manifest.at("/metadata"), ObjectMeta.class)) {
            problems.add(Problem.in(manifest, "invalid metadata: " + violation));
        }
        return problems;
    }
}
