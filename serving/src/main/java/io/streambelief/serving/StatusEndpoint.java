package io.streambelief.serving;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;

/**
 * {@code GET /v1/models/{name}}: TF Serving's GetModelStatus answer, with the version served, how
 * old it is, where it comes from and whether its publish gate is open.
 */
final class StatusEndpoint {
    private final ModelStore store;
    private final RowStore rows;

    /** @param rows the wide &amp; deep models' rows, or {@code null} when this server serves dense models only */
    StatusEndpoint(ModelStore store, RowStore rows) {
        this.store = store;
        this.rows = rows;
    }

    void respond(HttpExchange exchange, ServedModel model) throws IOException {
        long now = System.currentTimeMillis();
        JsonExchange.Body sparseFields = model.fold(dense -> json -> {},
                wideDeep -> json -> wideDeep(json, wideDeep, now));
        JsonExchange.send(exchange, 200, json -> {
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
            json.writeStringField("spec", model.specLabel());
            json.writeNumberField("num_inputs", model.spec().numInputs());
            json.writeNumberField("num_outputs", model.spec().numOutputs());
            json.writeNumberField("shards", model.shards());
            json.writeStringField("served_parameters", model.defaultParameters().label());
            json.writeStringField("consistency", store.consistency().label());
            if (model.checkpointId() >= 0) {
                json.writeNumberField("checkpoint_id", model.checkpointId());
            }
            sparseFields.write(json);
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

    /** Its deep part's MLP, and its rows as this server holds them. */
    private void wideDeep(JsonGenerator json, WideDeepModel model, long now) throws IOException {
        json.writeStringField("deep_spec", model.spec().source());
        if (rows == null) {
            return;
        }
        RowStore.RowActivity activity = rows.activity(model.name());
        json.writeObjectFieldStart("rows");
        // RocksDB's estimate, of every sparse model this server holds rows of.
        json.writeNumberField("held_estimate", rows.estimatedRows());
        json.writeNumberField("updates", activity.updates());
        json.writeNumberField("new_rows", activity.newRows());
        json.writeNumberField("new_rows_per_s", activity.newRowsPerSecond());
        // A row gradient's creation to its row's taking here, over the last updates.
        writeNumberOrNull(json, "lag_p50_ms", activity.lagP50Millis());
        writeNumberOrNull(json, "lag_p99_ms", activity.lagP99Millis());
        json.writeNumberField("newest_update_age_ms",
                activity.newestMillis() > 0 ? Math.max(0, now - activity.newestMillis()) : -1);
        json.writeEndObject();
    }

    private static void writeNumberOrNull(JsonGenerator json, String field, double value) throws IOException {
        if (Double.isFinite(value)) {
            json.writeNumberField(field, value);
        } else {
            json.writeNullField(field);
        }
    }
}
