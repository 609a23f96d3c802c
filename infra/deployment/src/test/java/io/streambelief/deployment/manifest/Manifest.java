package io.streambelief.deployment.manifest;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One Kubernetes object of the manifests, as the YAML document it was read from.
 *
 * @param source the file it comes from, and the overlay that patched it if one did
 */
public record Manifest(String source, ObjectNode document) {

    /** For the checks across resources: the object's meaning, whatever else it holds (the strict reading is {@link SchemaCheck}'s). */
    private static final ObjectMapper LENIENT = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public String apiVersion() {
        return document.path("apiVersion").asText();
    }

    public String kind() {
        return document.path("kind").asText();
    }

    public String name() {
        return document.path("metadata").path("name").asText();
    }

    /** {@code Kind/name}, as kubectl names it. */
    public String id() {
        return kind() + "/" + name();
    }

    public boolean is(String kind) {
        return kind().equals(kind);
    }

    public JsonNode at(String pointer) {
        return document.at(pointer);
    }

    public <T> T as(Class<T> type) {
        return LENIENT.convertValue(document, type);
    }

    Manifest patchedBy(String overlay, ObjectNode patched) {
        return new Manifest(source + ", patched by " + overlay, patched);
    }

    Manifest copy() {
        return new Manifest(source, document.deepCopy());
    }

    @Override
    public String toString() {
        return source + ": " + id();
    }
}
