package io.streambelief.kafka.sparse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.model.sparse.SparseExample;

/**
 * Reads one record of the examples topic for a sparse model, in any of three shapes: a JSON
 * object of raw fields ({@code {"origin": "TUL", "delay": 2, ...}}, label from the schema's rule),
 * the same wrapped with an explicit label ({@code {"features": {...}, "label": 1}}), or a CSV line
 * in the schema's column order. Anything else — missing label or field, unknown field, wrong
 * type, oversized — is a {@link MalformedExampleException} with the reason; nothing else is thrown.
 *
 * <p>Serving requests go through {@link #requestFeatures}, the same code without the label.
 */
public final class SparseExampleParser {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FeatureSchema schema;
    private final int maxBytes;

    public SparseExampleParser(FeatureSchema schema, int maxBytes) {
        this.schema = schema;
        this.maxBytes = maxBytes;
    }

    public SparseExample parse(byte[] value) {
        if (value == null || value.length == 0) {
            throw new MalformedExampleException("empty record");
        }
        if (value.length > maxBytes) {
            throw new MalformedExampleException("record is " + value.length + " bytes, the limit is " + maxBytes);
        }
        String text = new String(value, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            throw new MalformedExampleException("empty record");
        }
        FeatureSchema.Features features = text.startsWith("{") ? json(text) : csv(text);
        if (features.label() < 0) {
            throw new MalformedExampleException("missing label: neither 'label' nor column '" + schema.labelColumn() + "'");
        }
        return new SparseExample(features.ids(), features.numerics(), features.label());
    }

    private FeatureSchema.Features json(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            throw new MalformedExampleException("not JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new MalformedExampleException("not a JSON object");
        }
        JsonNode wrapped = root.get("features");
        if (wrapped != null && wrapped.isObject()) {
            for (Iterator<String> it = root.fieldNames(); it.hasNext();) {
                String key = it.next();
                if (!key.equals("features") && !key.equals("label")) {
                    throw new MalformedExampleException("unknown field '" + key + "' next to 'features'");
                }
            }
            JsonNode label = root.get("label");
            if (label == null && !wrapped.has(schema.labelColumn())) {
                throw new MalformedExampleException("missing label: neither 'label' nor column '" + schema.labelColumn() + "'");
            }
            checkFields(schema, wrapped);
            if (label == null) {
                return schema.features(fields(wrapped), true);
            }
            if (!label.isInt() || (label.asInt() != 0 && label.asInt() != 1)) {
                throw new MalformedExampleException("'label' must be 0 or 1, got " + label);
            }
            FeatureSchema.Features features = schema.features(fields(wrapped), false);
            return new FeatureSchema.Features(features.ids(), features.numerics(), label.asInt());
        }
        checkFields(schema, root);
        return schema.features(fields(root), true);
    }

    private FeatureSchema.Features csv(String line) {
        if (line.indexOf('\n') >= 0) {
            throw new MalformedExampleException("CSV record has more than one line");
        }
        String[] values = line.split(",", -1);
        var names = schema.columnNames();
        if (values.length != names.size()) {
            throw new MalformedExampleException("CSV record has " + values.length + " values, the schema has "
                    + names.size() + " columns (" + String.join(",", names) + ")");
        }
        return schema.features(column -> {
            int index = names.indexOf(column);
            return values[index].strip();
        }, true);
    }

    /** A serving request's (or a wrapped example's) raw fields, checked and turned into the model's input; no label. */
    public static FeatureSchema.Features requestFeatures(FeatureSchema schema, JsonNode object) {
        if (!object.isObject()) {
            throw new MalformedExampleException("an instance must be a JSON object of fields, got " + object.getNodeType());
        }
        checkFields(schema, object);
        return schema.features(fields(object), false);
    }

    private static void checkFields(FeatureSchema schema, JsonNode object) {
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!schema.hasColumn(field.getKey())) {
                throw new MalformedExampleException("unknown field '" + field.getKey() + "' (columns: "
                        + String.join(", ", schema.columnNames()) + ")");
            }
            JsonNode value = field.getValue();
            if (!value.isTextual() && !value.isNumber()) {
                throw new MalformedExampleException("field '" + field.getKey() + "' must be a string or a number, not "
                        + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    private static java.util.function.Function<String, String> fields(JsonNode object) {
        return column -> {
            JsonNode value = object.get(column);
            return value == null || value.isNull() ? null : value.asText();
        };
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
