package io.streambelief.deployment.manifest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

/**
 * The FlinkDeployment's OpenAPI schema as the Flink Kubernetes Operator's CRD declares it, made
 * strict: every object that lists its properties refuses others. The API server would prune an
 * unknown field silently, and a misspelt {@code upgradeMode} would then deploy with the default.
 */
final class FlinkDeploymentSchema {
    static final String API_VERSION = "flink.apache.org/v1beta1";
    private static final String CRD = "META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml";
    private static final String FLINK_VERSION = "v2_2";
    private static final Schema SCHEMA = load();

    private FlinkDeploymentSchema() {}

    /** What the schema finds wrong with {@code document}, each naming where; empty when it is valid. */
    static List<String> violations(JsonNode document) {
        return SCHEMA.validate(document).stream().map(error -> error.toString()).toList();
    }

    private static Schema load() {
        JsonNode crd;
        try (InputStream in = FlinkDeploymentSchema.class.getClassLoader().getResourceAsStream(CRD)) {
            if (in == null) {
                throw new IllegalStateException(CRD + " is not on the classpath (flink-kubernetes-operator-api)");
            }
            crd = new YAMLMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode schema = null;
        for (JsonNode version : crd.path("spec").path("versions")) {
            if (API_VERSION.endsWith("/" + version.path("name").asText())) {
                schema = (ObjectNode) version.path("schema").path("openAPIV3Schema").deepCopy();
            }
        }
        if (schema == null) {
            throw new IllegalStateException(CRD + " has no version " + API_VERSION);
        }
        addFlinkVersion(schema);
        allowObjectHeader(schema);
        forbidUnknownFields(schema);
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(schema);
    }

    /**
     * The newest operator API on Maven Central (1.10.0) knows Flink up to 1.20; operator 1.15 adds
     * v2_2 and is what users install. This goes, with its check, once a newer API jar is used.
     */
    private static void addFlinkVersion(ObjectNode schema) {
        ArrayNode versions = (ArrayNode) schema.path("properties").path("spec").path("properties")
                .path("flinkVersion").path("enum");
        for (JsonNode version : versions) {
            if (version.asText().equals(FLINK_VERSION)) {
                throw new IllegalStateException("The operator's CRD knows " + FLINK_VERSION + " now: drop addFlinkVersion");
            }
        }
        versions.add(FLINK_VERSION);
    }

    /** Every object has these; the CRD's schema leaves them to the API server. Metadata is read strictly by {@link SchemaCheck}. */
    private static void allowObjectHeader(ObjectNode schema) {
        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode properties = (ObjectNode) schema.path("properties");
        properties.set("apiVersion", json.objectNode().put("type", "string"));
        properties.set("kind", json.objectNode().put("type", "string"));
        properties.set("metadata", json.objectNode().put("type", "object"));
    }

    private static void forbidUnknownFields(JsonNode schema) {
        if (!(schema instanceof ObjectNode object)) {
            return;
        }
        if (object.has("properties") && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)
                && !object.has("additionalProperties")) {
            object.put("additionalProperties", false);
        }
        object.path("properties").forEach(FlinkDeploymentSchema::forbidUnknownFields);
        forbidUnknownFields(object.path("items"));
        forbidUnknownFields(object.path("additionalProperties"));
        for (String combination : List.of("allOf", "anyOf", "oneOf")) {
            object.path(combination).forEach(FlinkDeploymentSchema::forbidUnknownFields);
        }
    }
}
