package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything the build checks in the Kubernetes manifests: each object against its type, and the
 * objects against each other and against our code.
 */
public final class ManifestCheck {
    private static final List<Check> CHECKS = List.of(new SchemaCheck(), new KafkaCheck(), new TrainingJobCheck(),
            new ModelServerCheck(), new SelectorCheck(), new SecretReferenceCheck(), new GpuCheck());

    private ManifestCheck() {}

    /** The problems found, each naming file, object and what is wrong; empty when there are none. */
    public static List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        for (Check check : CHECKS) {
            try {
                problems.addAll(check.problemsIn(manifests));
            } catch (RuntimeException e) {
                // A malformed object the schema check reports can break the reading of others.
                problems.add(new Problem("-", check.getClass().getSimpleName(), "could not check: " + e));
            }
        }
        return problems;
    }
}
