package io.streambelief.serving;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.SortedSet;
import java.util.TreeSet;

import com.sun.net.httpserver.HttpExchange;

/**
 * The live dashboard: {@code GET /} is one self-contained page (no external scripts, fonts or
 * styles) that polls {@code GET /dashboard/data} every second and draws it. Registered at the
 * root, this handler also gets every path no other handler claims, and refuses them with 404.
 */
final class DashboardHandler extends JsonExchange {
    static final String PAGE_PATH = "/";
    static final String DATA_PATH = "/dashboard/data";

    private final byte[] page;
    private final ModelStore store;
    private final TrainingHistory history;
    private final RowStore rows;

    /** @param rows the wide &amp; deep models' rows, or {@code null} when this server serves dense models only */
    DashboardHandler(ModelStore store, TrainingHistory history, RowStore rows) {
        this.store = store;
        this.history = history;
        this.rows = rows;
        try (InputStream in = DashboardHandler.class.getResourceAsStream("dashboard.html")) {
            if (in == null) {
                throw new IllegalStateException("dashboard.html is missing from the serving jar");
            }
            this.page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void respond(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (path.equals(PAGE_PATH)) {
            requireMethod(exchange, "GET");
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            // The page fetches nothing but its own data.
            exchange.getResponseHeaders().set("Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
            exchange.sendResponseHeaders(200, page.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(page);
            }
        } else if (path.equals(DATA_PATH)) {
            requireMethod(exchange, "GET");
            data(exchange);
        } else {
            throw new HttpError(404, "no such resource: " + path + "; the API is GET /v1/models/{name}, "
                    + "GET /v1/models/{name}/metadata, POST /v1/models/{name}:predict, GET /metrics, GET /healthz, "
                    + "and the dashboard at GET /");
        }
    }

    /**
     * Every model's current figures and series, as arrays of arrays to keep an hour of history
     * small: {@code training} rows are {@code [time, worker, loss, accuracy, examples,
     * bytes_per_example, auc]} (the last two -1 when unknown),
     * {@code served} rows {@code [time, version, examples_trained, age_ms]}.
     */
    private void data(HttpExchange exchange) throws IOException {
        long now = System.currentTimeMillis();
        SortedSet<String> names = new TreeSet<>(store.names());
        names.addAll(history.models());
        send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeNumberField("now", now);
            json.writeStringField("consistency", store.consistency().label());
            json.writeArrayFieldStart("models");
            for (String name : names) {
                json.writeStartObject();
                json.writeStringField("name", name);
                ServedModel model = store.get(name).orElse(null);
                if (model != null) {
                    json.writeNumberField("model_version", model.modelVersion());
                    json.writeNumberField("examples_trained", model.examplesTrained());
                    json.writeNumberField("age_ms",
                            model.updatedAtMillis() > 0 ? Math.max(0, now - model.updatedAtMillis()) : -1);
                    json.writeStringField("spec", model.specLabel());
                    json.writeBooleanField("binary", model.binary());
                    if (rows != null && model.fold(dense -> false, wideDeep -> true)) {
                        RowStore.RowActivity activity = rows.activity(name);
                        json.writeNumberField("rows_held_estimate", rows.estimatedRows());
                        json.writeNumberField("row_updates", activity.updates());
                        json.writeNumberField("new_rows_per_s", activity.newRowsPerSecond());
                        json.writeNumberField("row_lag_p50_ms", finite(activity.lagP50Millis()));
                        json.writeNumberField("row_lag_p99_ms", finite(activity.lagP99Millis()));
                    }
                }
                // A closed publish gate: the version above is the last good one, held while training goes badly.
                PublishGate.State gate = store.gate().state(name).orElse(null);
                if (gate != null && !gate.open()) {
                    json.writeBooleanField("gate_open", false);
                    json.writeNumberField("gate_recent_loss", finite(gate.recentLoss()));
                    json.writeNumberField("gate_past_loss", finite(gate.pastLoss()));
                }
                json.writeArrayFieldStart("training");
                for (TrainingHistory.TrainingPoint p : history.training(name)) {
                    json.writeStartArray();
                    json.writeNumber(p.timeMillis());
                    json.writeNumber(p.worker());
                    json.writeNumber(finite(p.loss()));
                    json.writeNumber(finite(p.accuracy()));
                    json.writeNumber(p.examples());
                    json.writeNumber(finite(p.bytesPerExample()));
                    json.writeNumber(finite(p.auc()));
                    json.writeEndArray();
                }
                json.writeEndArray();
                json.writeArrayFieldStart("served");
                for (TrainingHistory.ServedPoint p : history.served(name)) {
                    json.writeStartArray();
                    json.writeNumber(p.timeMillis());
                    json.writeNumber(p.modelVersion());
                    json.writeNumber(p.examplesTrained());
                    json.writeNumber(p.ageMillis());
                    json.writeEndArray();
                }
                json.writeEndArray();
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
        });
    }

    /** JSON has no NaN: a report of an empty window becomes -1, which the page skips. */
    private static double finite(double value) {
        return Double.isFinite(value) ? value : -1;
    }
}
