package io.streambelief.serving;

import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;

/**
 * Wraps every request: counts and times it in {@link ServingMetrics} and writes one JSON line to
 * the {@code io.streambelief.serving.access} logger (time, method, path, endpoint, status,
 * response bytes, latency, and for predictions the model and the version that answered).
 */
final class RequestLog extends Filter {
    static final Logger ACCESS = LoggerFactory.getLogger("io.streambelief.serving.access");
    /** Set by handlers that answered with a model, for the log line. */
    static final String MODEL_ATTRIBUTE = "streambelief.model";
    static final String VERSION_ATTRIBUTE = "streambelief.version";

    private final ServingMetrics metrics;

    RequestLog(ServingMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        long start = System.nanoTime();
        try {
            chain.doFilter(exchange);
        } finally {
            long nanos = System.nanoTime() - start;
            String endpoint = endpoint(exchange.getRequestURI().getPath());
            int status = exchange.getResponseCode();
            metrics.record(endpoint, status, nanos);
            if (ACCESS.isInfoEnabled()) {
                ACCESS.info(line(exchange, endpoint, status, nanos));
            }
        }
    }

    /** A fixed name for the kind of request, whatever model or path it names. */
    static String endpoint(String path) {
        if (path.startsWith(ModelsRouter.PREFIX)) {
            if (path.endsWith(":predict")) {
                return "predict";
            }
            return path.endsWith("/metadata") ? "metadata" : "status";
        }
        return switch (path) {
            case "/metrics" -> "metrics";
            case "/healthz" -> "health";
            default -> "other";
        };
    }

    private static String line(HttpExchange exchange, String endpoint, int status, long nanos) throws IOException {
        StringWriter out = new StringWriter();
        try (JsonGenerator json = JsonExchange.JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("time", Instant.now().toString());
            json.writeStringField("method", exchange.getRequestMethod());
            json.writeStringField("path", exchange.getRequestURI().getRawPath());
            json.writeStringField("endpoint", endpoint);
            json.writeNumberField("status", status);
            json.writeNumberField("bytes", exchange.getResponseHeaders().containsKey("Content-length")
                    ? Long.parseLong(exchange.getResponseHeaders().getFirst("Content-length")) : 0);
            json.writeNumberField("latency_ms", nanos / 1e6);
            json.writeStringField("remote", String.valueOf(exchange.getRemoteAddress()));
            if (exchange.getAttribute(MODEL_ATTRIBUTE) != null) {
                json.writeStringField("model", (String) exchange.getAttribute(MODEL_ATTRIBUTE));
                json.writeNumberField("model_version", (Long) exchange.getAttribute(VERSION_ATTRIBUTE));
            }
            json.writeEndObject();
        }
        return out.toString();
    }

    @Override
    public String description() {
        return "access log and request metrics";
    }
}
