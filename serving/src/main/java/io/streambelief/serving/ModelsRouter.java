package io.streambelief.serving;

import java.io.IOException;

import com.sun.net.httpserver.HttpExchange;

/**
 * TF Serving's model resource, {@code /v1/models/...}: finds the model (and, for a predict,
 * the parameter set) a path names and hands the request to its endpoint: {@code GET
 * /v1/models/{name}} to {@link StatusEndpoint}, {@code GET /v1/models/{name}/metadata} to
 * {@link MetadataEndpoint}, and {@code POST /v1/models/{name}:predict} to
 * {@link PredictEndpoint} with the model's default parameters, or with those TF Serving's version
 * label picks in {@code POST /v1/models/{name}/labels/{latest|average}:predict}.
 */
final class ModelsRouter extends JsonExchange {
    static final String PREFIX = "/v1/models/";
    private static final String PREDICT = ":predict";
    private static final String LABELS = "/labels/";
    private static final String METADATA = "/metadata";

    private final ModelStore store;
    private final StatusEndpoint status;
    private final MetadataEndpoint metadata = new MetadataEndpoint();
    private final PredictEndpoint predict;

    /** @param rows the wide &amp; deep models' rows, or {@code null} when this server serves dense models only */
    ModelsRouter(ModelStore store, RowStore rows, long maxRequestBytes, PredictionBatcher.Settings batching) {
        this.store = store;
        this.status = new StatusEndpoint(store, rows);
        this.predict = new PredictEndpoint(rows, maxRequestBytes, batching);
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
                predict.respond(exchange, model, model.defaultParameters());
            } else {
                ServedModel model = model(target.substring(0, labels));
                predict.respond(exchange, model, parameters(model, target.substring(labels + LABELS.length())));
            }
        } else if (rest.endsWith(METADATA) && isName(rest.substring(0, rest.length() - METADATA.length()))) {
            requireMethod(exchange, "GET");
            metadata.respond(exchange, model(rest.substring(0, rest.length() - METADATA.length())));
        } else if (isName(rest)) {
            requireMethod(exchange, "GET");
            status.respond(exchange, model(rest));
        } else {
            throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath()
                    + "; use GET /v1/models/{name}, GET /v1/models/{name}/metadata or POST /v1/models/{name}:predict");
        }
    }

    private static boolean isName(String s) {
        return !s.isEmpty() && !s.contains("/") && !s.contains(":");
    }

    private ServedModel model(String name) {
        return model(store, name);
    }

    /** The model served under {@code name}; a 404 that lists the served ones if there is none. */
    static ServedModel model(ModelStore store, String name) {
        return store.get(name).orElseThrow(() -> new HttpError(404, "model '" + name + "' is not served here"
                + (store.names().isEmpty() ? " (no model has arrived yet)" : "; models: " + store.names())));
    }

    /** The parameter set a label names ({@code latest}, {@code average}); a 404 if the model has none such. */
    static ServedModel.Parameters parameters(ServedModel model, String label) {
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
}
