package io.streambelief.deployment.manifest;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads documents into model classes refusing any field the class does not declare. fabric8's and
 * Strimzi's classes would otherwise keep unknown fields in {@code additionalProperties} (their
 * {@code @JsonAnySetter}), and the API server would then drop them without a word: a misspelt
 * {@code replicas} is a Deployment of one.
 */
final class StrictBinding {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
            .setAnnotationIntrospector(new WithoutAnySetters());

    private StrictBinding() {}

    /**
     * What is wrong with {@code document} as a {@code type}: a field the class does not declare, or a
     * value it does not keep (Strimzi reads an enum value it does not know as null); empty when nothing.
     */
    static List<String> violations(JsonNode document, Class<?> type) {
        Object read;
        try {
            read = MAPPER.convertValue(document, type);
        } catch (IllegalArgumentException e) {
            return List.of(e.getMessage());
        }
        List<String> lost = new ArrayList<>();
        JsonNode kept = MAPPER.valueToTree(read);
        // Strimzi's classes answer the apiVersion of their annotations; ResourceTypes chose the class by it.
        for (String header : List.of("apiVersion", "kind")) {
            ((ObjectNode) kept).set(header, document.path(header));
        }
        collectLost(document, kept, "", lost);
        return lost.stream().map(path -> "the value at " + path + " is not one " + type.getSimpleName() + " takes").toList();
    }

    /** Paths of the values of {@code given} that {@code kept} lacks or holds otherwise. */
    private static void collectLost(JsonNode given, JsonNode kept, String path, List<String> lost) {
        if (given.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = given.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                String at = path + "/" + field.getKey().replace("~", "~0").replace("/", "~1");
                collectLost(field.getValue(), kept.path(field.getKey()), at, lost);
            }
        } else if (given.isArray()) {
            for (int i = 0; i < given.size(); i++) {
                collectLost(given.get(i), kept.path(i), path + "/" + i, lost);
            }
        } else if (kept.isMissingNode() || kept.isNull() != given.isNull() || !kept.asText().equals(given.asText())) {
            lost.add(path);
        }
    }

    private static final class WithoutAnySetters extends JacksonAnnotationIntrospector {
        @Override
        public Boolean hasAnySetter(Annotated annotated) {
            return Boolean.FALSE;
        }

        /** Writes defaults too (Strimzi leaves out {@code deleteClaim: false}), so that a kept value is never taken for a lost one. */
        @Override
        public JsonInclude.Value findPropertyInclusion(Annotated annotated) {
            return JsonInclude.Value.empty();
        }
    }
}
