package io.streambelief.serving;

import java.io.IOException;

import com.sun.net.httpserver.HttpExchange;

/**
 * {@code GET /healthz}: the server is up and answering, and the thread that follows the model
 * topics is alive and polling (503 if not: the served models would no longer change, which a
 * liveness probe should restart). How far behind it is, and how many records it skipped, are
 * reported but do not make it unhealthy: a lag is Kafka's or the job's, not a restart's to fix.
 */
final class HealthHandler extends JsonExchange {
    /** A consumer that has not polled for this long is stuck in a record. */
    static final long STUCK_AFTER_MILLIS = 60_000;

    private final ParamsConsumer consumer;

    /** @param consumer the server's consumer, or null for a server of fixed models */
    HealthHandler(ParamsConsumer consumer) {
        this.consumer = consumer;
    }

    @Override
    protected void respond(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestURI().getPath().equals("/healthz")) {
            throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath());
        }
        requireMethod(exchange, "GET");
        ParamsConsumer.Health health = consumer == null ? null : consumer.health();
        String problem = health == null ? null
                : !health.alive() ? "the consumer of the model topics has stopped"
                : health.sinceLastPollMillis() > STUCK_AFTER_MILLIS
                        ? "the consumer of the model topics has not polled for " + health.sinceLastPollMillis() + " ms"
                        : null;
        send(exchange, problem == null ? 200 : 503, json -> {
            json.writeStartObject();
            json.writeStringField("status", problem == null ? "ok" : "unhealthy");
            if (problem != null) {
                json.writeStringField("problem", problem);
            }
            if (health != null) {
                json.writeObjectFieldStart("consumer");
                json.writeBooleanField("alive", health.alive());
                json.writeNumberField("since_last_poll_ms", health.sinceLastPollMillis());
                json.writeNumberField("lag_records", health.lagRecords());
                json.writeNumberField("failed_records", health.failedRecords());
                json.writeEndObject();
            }
            json.writeEndObject();
        });
    }
}
