package io.streambelief.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;

/**
 * A wide &amp; deep model's predict request, which names its raw fields as the examples topic does
 * ({@code {"instances": [{"origin": "SFO", ...}, ...]}}), as the model takes it: each instance
 * turned into ids and numeric inputs by the model's own schema (the code training uses),
 * {@code size} × slots ids and {@code size} × numerics inputs.
 */
record WideDeepRequest(int size, long[] ids, float[] numerics) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads {@code {"instances": [{...}, ...]}} as a stream, one instance at a time, so that a
     * request's memory is its instances' features, not a tree of the whole body; refuses more than
     * {@link PredictEndpoint#MAX_INSTANCES} (each instance becomes one row lookup per slot).
     */
    static WideDeepRequest read(byte[] body, FeatureSchema schema, String modelName) {
        if (body.length == 0) {
            throw new HttpError(400, "empty request body; send {\"instances\": [{\"field\": value, ...}, ...]}");
        }
        String usage = "model " + modelName + " takes named fields: send {\"instances\": [{\"field\": value, ...}, "
                + "...]} with at least one instance";
        long[] ids = new long[16 * schema.slots()];
        float[] numerics = new float[16 * schema.numerics()];
        int size = -1;
        try (JsonParser json = JSON.createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new HttpError(400, usage);
            }
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                JsonToken value = json.nextToken();
                if (!"instances".equals(field)) {
                    json.skipChildren();
                    continue;
                }
                if (value != JsonToken.START_ARRAY || size >= 0) {
                    throw new HttpError(400, usage);
                }
                size = 0;
                while (json.nextToken() != JsonToken.END_ARRAY) {
                    if (size == PredictEndpoint.MAX_INSTANCES) {
                        throw new HttpError(413, "more than " + PredictEndpoint.MAX_INSTANCES
                                + " instances in one request; split it");
                    }
                    JsonNode instance = json.readValueAsTree();
                    FeatureSchema.Features features;
                    try {
                        features = SparseExampleParser.requestFeatures(schema, instance);
                    } catch (MalformedExampleException e) {
                        throw new HttpError(400, "instance " + size + ": " + e.reason());
                    }
                    if ((size + 1) * schema.slots() > ids.length) {
                        ids = Arrays.copyOf(ids, 2 * ids.length);
                        numerics = Arrays.copyOf(numerics, Math.max(1, 2 * numerics.length));
                    }
                    System.arraycopy(features.ids(), 0, ids, size * schema.slots(), schema.slots());
                    System.arraycopy(features.numerics(), 0, numerics, size * schema.numerics(), schema.numerics());
                    size++;
                }
            }
            if (json.nextToken() != null) {
                throw new HttpError(400, "unexpected content after the JSON object");
            }
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new HttpError(400, "request is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // A body in memory has no other way to fail.
            throw new UncheckedIOException(e);
        }
        if (size <= 0) {
            throw new HttpError(400, usage);
        }
        return new WideDeepRequest(size, Arrays.copyOf(ids, size * schema.slots()),
                Arrays.copyOf(numerics, size * schema.numerics()));
    }
}
