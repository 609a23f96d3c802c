package io.streambelief.serving;

import java.io.IOException;
import java.util.Arrays;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.JsonFactory;
import com.sun.net.httpserver.HttpExchange;

/**
 * TF Serving's model resource: {@code GET /v1/models/{name}} (status) and
 * {@code POST /v1/models/{name}:predict} with {@code {"instances": [[...], ...]}}, which answers
 * with the model's default parameters; {@code POST /v1/models/{name}/labels/{latest|average}:predict}
 * picks a parameter set by TF Serving's version label.
 */
final class ModelsHandler extends JsonExchange {
    static final String PREFIX = "/v1/models/";
    private static final String PREDICT = ":predict";
    private static final String LABELS = "/labels/";
    /** NaN and Infinity are read so that they can be refused with a clear message. */
    private static final JsonFactory REQUEST_JSON =
            JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final ModelStore store;
    private final long maxRequestBytes;

    ModelsHandler(ModelStore store, long maxRequestBytes) {
        this.store = store;
        this.maxRequestBytes = maxRequestBytes;
    }

    @Override
    protected void respond(HttpExchange exchange) throws IOException {
        String rest = exchange.getRequestURI().getPath().substring(PREFIX.length());
        if (rest.endsWith(PREDICT)) {
            requireMethod(exchange, "POST");
            String target = rest.substring(0, rest.length() - PREDICT.length());
            int labels = target.indexOf(LABELS);
            if (labels < 0) {
                ServedModel model = model(target);
                predict(exchange, model, model.defaultParameters());
            } else {
                ServedModel model = model(target.substring(0, labels));
                predict(exchange, model, parameters(model, target.substring(labels + LABELS.length())));
            }
        } else if (!rest.isEmpty() && !rest.contains("/") && !rest.contains(":")) {
            requireMethod(exchange, "GET");
            status(exchange, model(rest));
        } else {
            throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath()
                    + "; use GET /v1/models/{name} or POST /v1/models/{name}:predict");
        }
    }

    private ServedModel model(String name) {
        return store.get(name).orElseThrow(() -> new HttpError(404, "model '" + name + "' is not served here"
                + (store.names().isEmpty() ? " (no model has arrived yet)" : "; models: " + store.names())));
    }

    private static ServedModel.Parameters parameters(ServedModel model, String label) {
        for (ServedModel.Parameters parameters : ServedModel.Parameters.values()) {
            if (parameters.label().equals(label)) {
                if (!model.has(parameters)) {
                    throw new HttpError(404, "model '" + model.name() + "' has no '" + label
                            + "' parameters (the job keeps no average: --average-decay 0)");
                }
                return parameters;
            }
        }
        throw new HttpError(404, "unknown label '" + label + "'; labels are 'average' and 'latest'");
    }

    private void status(HttpExchange exchange, ServedModel model) throws IOException {
        long now = System.currentTimeMillis();
        send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeStringField("name", model.name());
            json.writeNumberField("model_version", model.modelVersion());
            json.writeNumberField("examples_trained", model.examplesTrained());
            json.writeNumberField("updated_at", model.updatedAtMillis());
            json.writeNumberField("age_ms", model.updatedAtMillis() > 0 ? Math.max(0, now - model.updatedAtMillis()) : -1);
            json.writeStringField("spec", model.spec().source());
            json.writeNumberField("num_inputs", model.spec().numInputs());
            json.writeNumberField("num_outputs", model.spec().numOutputs());
            json.writeNumberField("shards", model.shards());
            json.writeStringField("served_parameters", model.defaultParameters().label());
            json.writeEndObject();
        });
    }

    private void predict(HttpExchange exchange, ServedModel model, ServedModel.Parameters parameters)
            throws IOException {
        float[][] rows = readInstances(readBody(exchange, maxRequestBytes), model.spec().numInputs());
        float[][] predictions = model.predict(rows, parameters);
        send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeArrayFieldStart("predictions");
            for (float[] row : predictions) {
                json.writeStartArray();
                for (float p : row) {
                    json.writeNumber(p);
                }
                json.writeEndArray();
            }
            json.writeEndArray();
            json.writeNumberField("model_version", model.modelVersion());
            json.writeStringField("parameters", parameters.label());
            json.writeEndObject();
        });
    }

    /** Reads {@code {"instances": [[f, ...], ...]}}, checking every row against the model. */
    static float[][] readInstances(byte[] body, int numInputs) throws IOException {
        if (body.length == 0) {
            throw new HttpError(400, "empty request body; send {\"instances\": [[...], ...]}");
        }
        float[][] rows = null;
        try (JsonParser json = REQUEST_JSON.createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new HttpError(400, "request must be a JSON object {\"instances\": [[...], ...]}");
            }
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                JsonToken value = json.nextToken();
                if (!"instances".equals(field)) {
                    json.skipChildren();
                    continue;
                }
                if (value != JsonToken.START_ARRAY) {
                    throw new HttpError(400, "'instances' must be an array of rows");
                }
                rows = readRows(json, numInputs);
            }
            if (json.nextToken() != null) {
                throw new HttpError(400, "unexpected content after the JSON object");
            }
        } catch (JsonParseException e) {
            throw new HttpError(400, "malformed JSON: " + e.getOriginalMessage());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new HttpError(400, "unreadable JSON: " + e.getOriginalMessage());
        }
        if (rows == null) {
            throw new HttpError(400, "missing 'instances'; send {\"instances\": [[...], ...]}");
        }
        if (rows.length == 0) {
            throw new HttpError(400, "'instances' is empty");
        }
        return rows;
    }

    private static float[][] readRows(JsonParser json, int numInputs) throws IOException {
        float[][] rows = new float[16][];
        int count = 0;
        JsonToken token;
        while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
            if (token != JsonToken.START_ARRAY) {
                throw new HttpError(400, "instances[" + count + "] must be an array of " + numInputs + " numbers");
            }
            float[] row = new float[numInputs];
            int n = 0;
            while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
                if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
                    throw new HttpError(400, "instances[" + count + "][" + n + "] is not a number");
                }
                if (n == numInputs) {
                    throw new HttpError(400, "instances[" + count + "] has more than " + numInputs
                            + " values; the model takes " + numInputs);
                }
                float v = json.getFloatValue();
                if (!Float.isFinite(v)) {
                    throw new HttpError(400, "instances[" + count + "][" + n + "] is " + v + "; values must be finite");
                }
                row[n++] = v;
            }
            if (n != numInputs) {
                throw new HttpError(400, "instances[" + count + "] has " + n + " values; the model takes " + numInputs);
            }
            if (count == rows.length) {
                rows = Arrays.copyOf(rows, rows.length * 2);
            }
            rows[count++] = row;
        }
        return Arrays.copyOf(rows, count);
    }
}
