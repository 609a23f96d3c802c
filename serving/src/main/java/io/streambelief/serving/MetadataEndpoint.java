package io.streambelief.serving;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;

/**
 * {@code GET /v1/models/{name}/metadata}: TF Serving's GetModelMetadata answer (the serving
 * signature), and the model's spec; for a wide &amp; deep model also the fields a request names.
 */
final class MetadataEndpoint {

    void respond(HttpExchange exchange, ServedModel model) throws IOException {
        JsonExchange.Body sparseSection = model.fold(dense -> json -> {}, wideDeep -> json -> wideDeep(json, wideDeep));
        JsonExchange.send(exchange, 200, json -> {
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
            json.writeStringField("spec", model.specLabel());
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
            sparseSection.write(json);
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    /** Its deep part's MLP, and what a request names: the schema's columns but the label's. */
    private static void wideDeep(JsonGenerator json, WideDeepModel model) throws IOException {
        json.writeStringField("deep_spec", model.spec().source());
        json.writeObjectFieldStart("sparse");
        json.writeStringField("model", model.sparse().model().toString());
        json.writeStringField("schema", model.sparse().schemaSource());
        json.writeArrayFieldStart("request_fields");
        for (String column : model.schema().columnNames()) {
            if (!column.equals(model.schema().labelColumn())) {
                json.writeString(column);
            }
        }
        json.writeEndArray();
        json.writeEndObject();
    }

    private static void tensor(JsonGenerator json, String name, int width) throws IOException {
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
}
