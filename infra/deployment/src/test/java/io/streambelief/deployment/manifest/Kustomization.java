package io.streambelief.deployment.manifest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.flipkart.zjsonpatch.JsonPatch;
import com.flipkart.zjsonpatch.JsonPatchApplicationException;

/**
 * Reads a kustomization as {@code kubectl apply -k} would, for the parts our manifests use:
 * {@code resources} (files and directories with a kustomization of their own) and inline JSON 6902
 * {@code patches}. Any other field is refused rather than ignored, so that what is checked is what
 * gets applied.
 */
final class Kustomization {
    private static final String FILE = "kustomization.yaml";
    private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "resources", "patches");
    private static final Set<String> TARGET_FIELDS = Set.of("group", "version", "kind", "name");
    private static final YAMLMapper YAML = new YAMLMapper();

    private final Path root;

    Kustomization(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    List<Manifest> resolve(Path directory) {
        Path dir = directory.toAbsolutePath().normalize();
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidKustomizationException(name(dir) + " has no " + FILE);
        }
        JsonNode kustomization = read(file);
        for (Iterator<String> fields = kustomization.fieldNames(); fields.hasNext(); ) {
            String field = fields.next();
            if (!FIELDS.contains(field)) {
                throw new InvalidKustomizationException(name(file) + ": field '" + field
                        + "' is not one this check applies; it knows " + FIELDS);
            }
        }
        List<Manifest> manifests = new ArrayList<>();
        Set<Path> listed = new HashSet<>();
        for (JsonNode entry : kustomization.path("resources")) {
            Path resource = dir.resolve(entry.asText()).normalize();
            if (Files.isDirectory(resource)) {
                manifests.addAll(resolve(resource));
            } else if (Files.isRegularFile(resource)) {
                listed.add(resource);
                manifests.addAll(documents(resource));
            } else {
                throw new InvalidKustomizationException(name(file) + " lists '" + entry.asText() + "', which does not exist");
            }
        }
        for (Path yaml : yamlFiles(dir)) {
            if (!listed.contains(yaml) && !yaml.equals(file)) {
                throw new InvalidKustomizationException(name(yaml) + " is not listed in the resources of " + name(file)
                        + ": kubectl would not apply it");
            }
        }
        for (JsonNode patch : kustomization.path("patches")) {
            manifests = apply(name(file), patch, manifests);
        }
        return manifests;
    }

    private List<Manifest> apply(String overlay, JsonNode entry, List<Manifest> manifests) {
        JsonNode target = entry.path("target");
        if (!entry.path("patch").isTextual() || !target.isObject() || entry.size() != 2) {
            throw new InvalidKustomizationException(overlay + ": every patch needs exactly a 'target' and an inline "
                    + "JSON 6902 'patch', got " + entry);
        }
        for (Iterator<String> fields = target.fieldNames(); fields.hasNext(); ) {
            String field = fields.next();
            if (!TARGET_FIELDS.contains(field)) {
                throw new InvalidKustomizationException(overlay + ": patch target field '" + field
                        + "' is not one this check applies; it knows " + TARGET_FIELDS);
            }
        }
        JsonNode operations = parse(overlay, entry.path("patch").asText());
        if (!operations.isArray()) {
            throw new InvalidKustomizationException(overlay + ": a patch must be a list of JSON 6902 operations");
        }
        List<Manifest> patched = new ArrayList<>();
        boolean matched = false;
        for (Manifest manifest : manifests) {
            if (matches(target, manifest)) {
                matched = true;
                try {
                    patched.add(manifest.patchedBy(overlay, (ObjectNode) JsonPatch.apply(operations, manifest.document())));
                } catch (JsonPatchApplicationException e) {
                    throw new InvalidKustomizationException(overlay + ": patch of " + manifest.id() + " fails: "
                            + e.getMessage(), e);
                }
            } else {
                patched.add(manifest);
            }
        }
        if (!matched) {
            throw new InvalidKustomizationException(overlay + ": patch target " + target + " matches no resource");
        }
        return patched;
    }

    private static boolean matches(JsonNode target, Manifest manifest) {
        String apiVersion = manifest.apiVersion();
        int slash = apiVersion.lastIndexOf('/');
        String group = slash < 0 ? "" : apiVersion.substring(0, slash);
        String version = apiVersion.substring(slash + 1);
        return manifest.kind().equals(target.path("kind").asText())
                && manifest.name().equals(target.path("name").asText())
                && (!target.has("group") || group.equals(target.path("group").asText()))
                && (!target.has("version") || version.equals(target.path("version").asText()));
    }

    private List<Manifest> documents(Path file) {
        List<Manifest> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> iterator = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (iterator.hasNext()) {
                JsonNode document = iterator.next();
                if (document == null || document.isNull() || document.isMissingNode()) {
                    continue;
                }
                if (!document.isObject() || !document.path("kind").isTextual()
                        || !document.path("metadata").path("name").isTextual()) {
                    throw new InvalidKustomizationException(name(file) + " holds a document without kind and metadata.name");
                }
                documents.add(new Manifest(name(file), (ObjectNode) document));
            }
        } catch (IOException e) {
            throw new InvalidKustomizationException(name(file) + " is not valid YAML: " + e.getMessage(), e);
        }
        return documents;
    }

    private JsonNode read(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidKustomizationException(name(file) + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static JsonNode parse(String overlay, String text) {
        try {
            return YAML.readTree(text);
        } catch (IOException e) {
            throw new InvalidKustomizationException(overlay + ": a patch is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(path -> path.toString().endsWith(".yaml") || path.toString().endsWith(".yml"))
                    .map(Path::normalize)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String name(Path path) {
        return path.startsWith(root) ? root.relativize(path).toString() : path.toString();
    }
}
