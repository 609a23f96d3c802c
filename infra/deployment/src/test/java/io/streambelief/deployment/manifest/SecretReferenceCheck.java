package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Every Secret a pod reads is in the manifests with the key it reads: a missing one leaves the pod
 * in CreateContainerConfigError, which no readiness probe reports as clearly.
 */
final class SecretReferenceCheck implements Check {

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        for (Manifest manifest : manifests.all()) {
            if (!manifest.is("Secret")) {
                visit(manifest, manifest.document(), "", manifests, problems);
            }
        }
        return problems;
    }

    private static void visit(Manifest manifest, JsonNode node, String path, Manifests manifests, List<Problem> problems) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                String at = path + "/" + field.getKey();
                switch (field.getKey()) {
                    case "secretKeyRef" -> reference(manifest, at, field.getValue().path("name").asText(),
                            Optional.of(field.getValue().path("key").asText()), manifests, problems);
                    case "secretRef" -> reference(manifest, at, field.getValue().path("name").asText(),
                            Optional.empty(), manifests, problems);
                    case "secret" -> {
                        if (field.getValue().has("secretName")) {
                            reference(manifest, at, field.getValue().path("secretName").asText(), Optional.empty(),
                                    manifests, problems);
                        }
                    }
                    default -> { }
                }
                visit(manifest, field.getValue(), at, manifests, problems);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                visit(manifest, node.get(i), path + "/" + i, manifests, problems);
            }
        }
    }

    private static void reference(Manifest manifest, String at, String name, Optional<String> key, Manifests manifests,
            List<Problem> problems) {
        Optional<Manifest> secret = manifests.find("Secret", name);
        if (secret.isEmpty()) {
            problems.add(Problem.in(manifest, at + " names Secret " + name + ", which the manifests do not have"));
        } else if (key.isPresent() && !secret.get().at("/data").has(key.get())
                && !secret.get().at("/stringData").has(key.get())) {
            problems.add(Problem.in(manifest, at + " reads key " + key.get() + " of Secret " + name + ", which has no such key"));
        }
    }
}
