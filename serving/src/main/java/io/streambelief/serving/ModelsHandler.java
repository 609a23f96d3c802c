package io.streambelief.serving;

import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;

import io.streambelief.kafka.example.MalformedExampleException;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;

/**
 * TF Serving's model resource: {@code GET /v1/models/{name}} (status),
 * {@code GET /v1/models/{name}/metadata}, and {@code POST /v1/models/{name}:predict} in TF
 * Serving's row format ({@code {"instances": [[...], ...]}}, answered with {@code predictions})
 * or columnar format ({@code {"inputs": [[...], ...]}}, answered with {@code outputs}), with the
 * model's default parameters; {@code POST /v1/models/{name}/labels/{latest|average}:predict}
 * picks a parameter set by TF Serving's version label. The model has one input tensor, so a
 * named input ({@code {"x": [...]}} per instance, {@code {"inputs": {"x": [[...]]}}}) is taken
 * whatever its name.
 */
final class ModelsHandler extends JsonExchange {
    static final String PREFIX = "/v1/models/";
    private static final String PREDICT = ":predict";
    private static final String LABELS = "/labels/";
    private static final String METADATA = "/metadata";
    /** NaN and Infinity are read so that they can be refused with a clear message. */
    private static final JsonFactory REQUEST_JSON =
            JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private static final ObjectMapper SPARSE_JSON = new ObjectMapper();
    /**
     * Instances (rows) one request may hold: for a sparse model each becomes a row lookup per
     * slot, and a small dense model's 16 MiB of rows would be millions of arrays.
     */
    static final int MAX_INSTANCES = 10_000;

    private final ModelStore store;
    private final RowStore rows;
    private final long maxRequestBytes;
    /** Parsed schemas of the sparse models, by their JSON. */
    private final Map<String, FeatureSchema> schemas = new ConcurrentHashMap<>();

    /** @param rows the sparse models' rows, or {@code null} when this server serves dense models only */
    ModelsHandler(ModelStore store, RowStore rows, long maxRequestBytes) {
        this.store = store;
        this.rows = rows;
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
        } else if (rest.endsWith(METADATA) && isName(rest.substring(0, rest.length() - METADATA.length()))) {
            requireMethod(exchange, "GET");
            metadata(exchange, model(rest.substring(0, rest.length() - METADATA.length())));
        } else if (isName(rest)) {
            requireMethod(exchange, "GET");
            status(exchange, model(rest));
        } else {
            throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath()
                    + "; use GET /v1/models/{name}, GET /v1/models/{name}/metadata or POST /v1/models/{name}:predict");
        }
    }

    private static boolean isName(String s) {
        return !s.isEmpty() && !s.contains("/") && !s.contains(":");
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
            // TF Serving's GetModelStatus answer: the one version served, available.
            json.writeArrayFieldStart("model_version_status");
            json.writeStartObject();
            json.writeStringField("version", Long.toString(model.modelVersion()));
            json.writeStringField("state", "AVAILABLE");
            json.writeObjectFieldStart("status");
            json.writeStringField("error_code", "OK");
            json.writeStringField("error_message", "");
            json.writeEndObject();
            json.writeEndObject();
            json.writeEndArray();
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
            json.writeStringField("consistency", store.consistency().label());
            if (model.checkpointId() >= 0) {
                json.writeNumberField("checkpoint_id", model.checkpointId());
            }
            PublishGate.State gate = store.gate().state(model.name()).orElse(null);
            json.writeObjectFieldStart("publish_gate");
            json.writeBooleanField("open", gate == null || gate.open());
            if (gate != null) {
                writeNumberOrNull(json, "recent_loss", gate.recentLoss());
                writeNumberOrNull(json, "past_loss", gate.pastLoss());
                json.writeNumberField("closed_since", gate.closedSinceMillis());
                json.writeNumberField("closures", gate.closures());
            }
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    private static void writeNumberOrNull(com.fasterxml.jackson.core.JsonGenerator json, String field, double value)
            throws IOException {
        if (Double.isFinite(value)) {
            json.writeNumberField(field, value);
        } else {
            json.writeNullField(field);
        }
    }

    /** TF Serving's GetModelMetadata answer (its serving signature), and the model's spec. */
    private void metadata(HttpExchange exchange, ServedModel model) throws IOException {
        send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeObjectFieldStart("model_spec");
            json.writeStringField("name", model.name());
            json.writeStringField("signature_name", "");
            json.writeStringField("version", Long.toString(model.modelVersion()));
            json.writeEndObject();
            json.writeObjectFieldStart("metadata");
            json.writeObjectFieldStart("signature_def");
            json.writeObjectFieldStart("signature_def");
            json.writeObjectFieldStart("serving_default");
            json.writeObjectFieldStart("inputs");
            tensor(json, "x", model.spec().numInputs());
            json.writeEndObject();
            json.writeObjectFieldStart("outputs");
            tensor(json, "probabilities", model.spec().numOutputs());
            json.writeEndObject();
            json.writeStringField("method_name", "tensorflow/serving/predict");
            json.writeEndObject();
            json.writeEndObject();
            json.writeEndObject();
            json.writeEndObject();
            json.writeObjectFieldStart("streambelief");
            json.writeStringField("spec", model.spec().source());
            json.writeNumberField("num_inputs", model.spec().numInputs());
            json.writeNumberField("num_classes", model.spec().numLabels());
            json.writeNumberField("shards", model.shards());
            json.writeArrayFieldStart("parameters");
            for (ServedModel.Parameters parameters : ServedModel.Parameters.values()) {
                if (model.has(parameters)) {
                    json.writeString(parameters.label());
                }
            }
            json.writeEndArray();
            if (model.sparse() != null) {
                // What a request names: the schema's columns but the label's.
                FeatureSchema schema = schema(model);
                json.writeObjectFieldStart("sparse");
                json.writeStringField("model", model.sparse().model().toString());
                json.writeStringField("schema", model.sparse().schemaSource());
                json.writeArrayFieldStart("request_fields");
                for (String column : schema.columnNames()) {
                    if (!column.equals(schema.labelColumn())) {
                        json.writeString(column);
                    }
                }
                json.writeEndArray();
                json.writeEndObject();
            }
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    private FeatureSchema schema(ServedModel model) {
        return schemas.computeIfAbsent(model.sparse().schemaJson(),
                json -> FeatureSchema.parse(model.sparse().schemaSource(), json));
    }

    private static void tensor(com.fasterxml.jackson.core.JsonGenerator json, String name, int width)
            throws IOException {
        json.writeObjectFieldStart(name);
        json.writeStringField("dtype", "DT_FLOAT");
        json.writeObjectFieldStart("tensor_shape");
        json.writeArrayFieldStart("dim");
        json.writeStartObject();
        json.writeStringField("size", "-1");
        json.writeStringField("name", "");
        json.writeEndObject();
        json.writeStartObject();
        json.writeStringField("size", Integer.toString(width));
        json.writeStringField("name", "");
        json.writeEndObject();
        json.writeEndArray();
        json.writeBooleanField("unknown_rank", false);
        json.writeEndObject();
        json.writeStringField("name", name);
        json.writeEndObject();
    }

    private void predict(HttpExchange exchange, ServedModel model, ServedModel.Parameters parameters)
            throws IOException {
        if (model.sparse() != null) {
            predictSparse(exchange, model, parameters);
            return;
        }
        Request request = readRequest(readBody(exchange, maxRequestBytes), model.spec().numInputs());
        answer(exchange, model, parameters, model.predict(request.rows(), parameters), request.columnar());
    }

    /** The predictions, one array per instance, with the version and parameter set that made them. */
    private static void answer(HttpExchange exchange, ServedModel model, ServedModel.Parameters parameters,
            float[][] predictions, boolean columnar) throws IOException {
        exchange.setAttribute(RequestLog.MODEL_ATTRIBUTE, model.name());
        exchange.setAttribute(RequestLog.VERSION_ATTRIBUTE, model.modelVersion());
        send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeArrayFieldStart(columnar ? "outputs" : "predictions");
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

    /**
     * A sparse model's request names its raw fields, as the examples topic does:
     * {@code {"instances": [{"origin": "SFO", ...}, ...]}}. Each instance becomes ids and numeric
     * inputs through the model's own schema (the code training uses); its rows come from the
     * {@link RowStore}, zeros for ids the model has not trained.
     */
    private void predictSparse(HttpExchange exchange, ServedModel model, ServedModel.Parameters parameters)
            throws IOException {
        byte[] body = readBody(exchange, maxRequestBytes);
        if (body.length == 0) {
            throw new HttpError(400, "empty request body; send {\"instances\": [{\"field\": value, ...}, ...]}");
        }
        FeatureSchema schema = schema(model);
        SparseInstances instances = readSparseInstances(body, schema, model.name());
        int size = instances.size();
        long[] ids = instances.ids();
        float[] numerics = instances.numerics();
        if (rows == null) {
            throw new HttpError(503, "this server keeps no embedding rows, so it cannot serve sparse model " + model.name());
        }
        float[] lookups = rows.lookup(model.name(), ids, model.sparse().table().lookupWidth());
        float[] probabilities = model.predictSparse(lookups, numerics, schema.slots(), size, parameters);
        float[][] predictions = new float[size][];
        for (int i = 0; i < size; i++) {
            predictions[i] = new float[] {probabilities[i]};
        }
        answer(exchange, model, parameters, predictions, false);
    }

    /** A sparse request's instances as the model takes them: {@code size} × slots ids, {@code size} × numerics inputs. */
    record SparseInstances(int size, long[] ids, float[] numerics) {}

    /**
     * Reads {@code {"instances": [{...}, ...]}} as a stream, one instance at a time, so that a
     * request's memory is its instances' features, not a tree of the whole body; refuses more than
     * {@link #MAX_INSTANCES} (each instance becomes one row lookup per slot).
     */
    static SparseInstances readSparseInstances(byte[] body, FeatureSchema schema, String modelName) throws IOException {
        String usage = "model " + modelName + " takes named fields: send {\"instances\": [{\"field\": value, ...}, "
                + "...]} with at least one instance";
        long[] ids = new long[16 * schema.slots()];
        float[] numerics = new float[16 * schema.numerics()];
        int size = -1;
        try (JsonParser json = SPARSE_JSON.createParser(body)) {
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
                    if (size == MAX_INSTANCES) {
                        throw new HttpError(413, "more than " + MAX_INSTANCES + " instances in one request; "
                                + "split it");
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
        }
        if (size <= 0) {
            throw new HttpError(400, usage);
        }
        return new SparseInstances(size, Arrays.copyOf(ids, size * schema.slots()),
                Arrays.copyOf(numerics, size * schema.numerics()));
    }

    /**
     * The rows of a predict request, and whether they came in the columnar format (answered with
     * {@code outputs} instead of {@code predictions}).
     */
    record Request(float[][] rows, boolean columnar) {}

    /**
     * Reads {@code {"instances": [...]}} or {@code {"inputs": ...}}, checking every row against the
     * model: a row is an array of numbers, or an object with one named input holding one.
     */
    static Request readRequest(byte[] body, int numInputs) throws IOException {
        if (body.length == 0) {
            throw new HttpError(400, "empty request body; send {\"instances\": [[...], ...]}");
        }
        float[][] rows = null;
        boolean columnar = false;
        try (JsonParser json = REQUEST_JSON.createParser(body)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new HttpError(400, "request must be a JSON object {\"instances\": [[...], ...]}");
            }
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                JsonToken value = json.nextToken();
                if (!"instances".equals(field) && !"inputs".equals(field)) {
                    json.skipChildren();
                    continue;
                }
                if (rows != null) {
                    throw new HttpError(400, "send either 'instances' (row format) or 'inputs' (columnar format), once");
                }
                columnar = "inputs".equals(field);
                boolean named = columnar && value == JsonToken.START_OBJECT;
                if (named) {
                    value = singleNamedInput(json, "inputs");
                }
                if (value != JsonToken.START_ARRAY) {
                    throw new HttpError(400, "'" + field + "' must be an array of rows");
                }
                rows = readRows(json, numInputs, field);
                if (named) {
                    endNamedInput(json, "inputs");
                }
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
            throw new HttpError(400, (columnar ? "'inputs'" : "'instances'") + " is empty");
        }
        return new Request(rows, columnar);
    }

    /**
     * Steps into an object that must name exactly one input (the model has one), and returns the
     * token of its value.
     */
    private static JsonToken singleNamedInput(JsonParser json, String where) throws IOException {
        if (json.nextToken() != JsonToken.FIELD_NAME) {
            throw new HttpError(400, where + " names no input; the model has one input");
        }
        return json.nextToken();
    }

    private static void endNamedInput(JsonParser json, String where) throws IOException {
        if (json.nextToken() != JsonToken.END_OBJECT) {
            throw new HttpError(400, where + " names more than one input; the model has one");
        }
    }

    private static float[][] readRows(JsonParser json, int numInputs, String field) throws IOException {
        float[][] rows = new float[16][];
        int count = 0;
        JsonToken token;
        while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
            if (count == MAX_INSTANCES) {
                throw new HttpError(413, "more than " + MAX_INSTANCES + " instances in one request; split it");
            }
            boolean named = token == JsonToken.START_OBJECT;
            if (named) {
                token = singleNamedInput(json, field + "[" + count + "]");
            }
            if (token != JsonToken.START_ARRAY) {
                throw new HttpError(400, field + "[" + count + "] must be an array of " + numInputs + " numbers");
            }
            float[] row = new float[numInputs];
            int n = 0;
            while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
                if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
                    throw new HttpError(400, field + "[" + count + "][" + n + "] is not a number");
                }
                if (n == numInputs) {
                    throw new HttpError(400, field + "[" + count + "] has more than " + numInputs
                            + " values; the model takes " + numInputs);
                }
                float v = json.getFloatValue();
                if (!Float.isFinite(v)) {
                    throw new HttpError(400, field + "[" + count + "][" + n + "] is " + v + "; values must be finite");
                }
                row[n++] = v;
            }
            if (n != numInputs) {
                throw new HttpError(400, field + "[" + count + "] has " + n + " values; the model takes " + numInputs);
            }
            if (named) {
                endNamedInput(json, field + "[" + count + "]");
            }
            if (count == rows.length) {
                rows = Arrays.copyOf(rows, rows.length * 2);
            }
            rows[count++] = row;
        }
        return Arrays.copyOf(rows, count);
    }
}
