package io.streambelief.serving;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

import com.sun.net.httpserver.HttpExchange;

/** {@code GET /metrics}: {@link ServingMetrics} in Prometheus' text format. */
final class MetricsHandler extends JsonExchange {
    private final ServingMetrics metrics;

    MetricsHandler(ServingMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    protected void respond(HttpExchange exchange) throws IOException {
        requireMethod(exchange, "GET");
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        metrics.write(text);
        exchange.getResponseHeaders().set("Content-Type", metrics.contentType());
        exchange.sendResponseHeaders(200, text.size());
        try (OutputStream out = exchange.getResponseBody()) {
            text.writeTo(out);
        }
    }
}
