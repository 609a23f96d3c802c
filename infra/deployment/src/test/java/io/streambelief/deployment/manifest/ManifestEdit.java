package io.streambelief.deployment.manifest;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * Changes to one loaded document, for the mutation tests. Each refuses to do nothing: a path that
 * is not there fails the test, so a mutation cannot pass by changing no manifest.
 */
final class ManifestEdit {
    private final Manifest manifest;

    private ManifestEdit(Manifest manifest) {
        this.manifest = manifest;
    }

    static ManifestEdit of(Manifests manifests, String kind, String name) {
        return new ManifestEdit(manifests.get(kind, name));
    }

    /** Renames the field at {@code pointer}, keeping its value: a misspelt key. */
    ManifestEdit rename(String pointer, String newName) {
        JsonPointer path = JsonPointer.compile(pointer);
        ObjectNode parent = (ObjectNode) existing(path.head().toString());
        String field = path.last().getMatchingProperty();
        if (parent.has(newName)) {
            throw new IllegalStateException(manifest + " already has " + newName + " beside " + pointer);
        }
        parent.set(newName, parent.remove(field));
        return this;
    }

    /** Sets the existing text or number at {@code pointer} to {@code value}. */
    ManifestEdit set(String pointer, String value) {
        JsonPointer path = JsonPointer.compile(pointer);
        existing(pointer);
        JsonNode parent = manifest.document().at(path.head());
        if (parent instanceof ArrayNode array) {
            array.set(path.last().getMatchingIndex(), TextNode.valueOf(value));
        } else {
            ((ObjectNode) parent).put(path.last().getMatchingProperty(), value);
        }
        return this;
    }

    /** Replaces the element {@code old} of the list of strings at {@code pointer}. */
    ManifestEdit replaceElement(String pointer, String old, String value) {
        ArrayNode array = (ArrayNode) existing(pointer);
        for (int i = 0; i < array.size(); i++) {
            if (array.get(i).asText().equals(old)) {
                array.set(i, TextNode.valueOf(value));
                return this;
            }
        }
        throw new IllegalStateException(manifest + " has no '" + old + "' in " + pointer);
    }

    private JsonNode existing(String pointer) {
        JsonNode node = manifest.document().at(pointer);
        if (node.isMissingNode()) {
            throw new IllegalStateException(manifest + " has nothing at " + pointer);
        }
        return node;
    }
}
