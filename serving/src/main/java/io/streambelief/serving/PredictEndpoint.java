package io.streambelief.serving;

import java.io.IOException;

import com.sun.net.httpserver.HttpExchange;

/**
 * {@code POST /v1/models/{name}:predict} and {@code POST /v1/models/{name}/labels/{label}:predict}:
 * a dense model answers a {@link DenseRequest}, a wide &amp; deep model a {@link WideDeepRequest}
 * with the rows the {@link RowStore} holds for its ids (zeros for ids the model has not trained).
 * Either way the answer holds one array of probabilities per instance, with the version and
 * parameter set that made them.
 */
final class PredictEndpoint {
    /**
     * Instances (rows) one request may hold: for a wide &amp; deep model each becomes a row lookup
     * per slot, and a small dense model's 16 MiB of rows would be millions of arrays.
     */
    static final int MAX_INSTANCES = 10_000;

    private final RowStore rows;
    private final long maxRequestBytes;
    private final PredictionBatcher.Settings batching;

    /**
     * @param rows the wide &amp; deep models' rows, or {@code null} when this server serves dense models only
     * @param batching how a dense model's concurrent predictions are gathered into one pass
     */
    PredictEndpoint(RowStore rows, long maxRequestBytes, PredictionBatcher.Settings batching) {
        this.rows = rows;
        this.maxRequestBytes = maxRequestBytes;
        this.batching = batching;
    }

    void respond(HttpExchange exchange, ServedModel model, ServedModel.Parameters parameters) throws IOException {
        byte[] body = JsonExchange.readBody(exchange, maxRequestBytes);
        Predictions predictions = model.fold(dense -> predict(dense, body, parameters),
                wideDeep -> predict(wideDeep, body, parameters));
        answer(exchange, model, parameters, predictions);
    }

    /** One array of probabilities per instance, and whether the request was columnar (answered with {@code outputs}). */
    private record Predictions(float[][] instances, boolean columnar) {}

    private Predictions predict(DenseModel model, byte[] body, ServedModel.Parameters parameters) {
        DenseRequest request = DenseRequest.read(body, model.spec().numInputs());
        return new Predictions(model.predict(request.rows(), parameters, batching), request.columnar());
    }

    private Predictions predict(WideDeepModel model, byte[] body, ServedModel.Parameters parameters) {
        WideDeepRequest request = WideDeepRequest.read(body, model.schema(), model.name());
        if (rows == null) {
            throw new HttpError(503, "this server keeps no embedding rows, so it cannot serve sparse model " + model.name());
        }
        float[] lookups = rows.lookup(model.name(), request.ids(), model.sparse().table().lookupWidth());
        float[] probabilities = model.predict(lookups, request.numerics(), request.size(), parameters);
        float[][] instances = new float[request.size()][];
        for (int i = 0; i < request.size(); i++) {
            instances[i] = new float[] {probabilities[i]};
        }
        return new Predictions(instances, false);
    }

    private static void answer(HttpExchange exchange, ServedModel model, ServedModel.Parameters parameters,
            Predictions predictions) throws IOException {
        exchange.setAttribute(RequestLog.MODEL_ATTRIBUTE, model.name());
        exchange.setAttribute(RequestLog.VERSION_ATTRIBUTE, model.modelVersion());
        JsonExchange.send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeArrayFieldStart(predictions.columnar() ? "outputs" : "predictions");
            for (float[] instance : predictions.instances()) {
                json.writeStartArray();
                for (float p : instance) {
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
}
