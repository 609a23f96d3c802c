package io.streambelief.serving;

import java.io.IOException;

import com.sun.net.httpserver.HttpExchange;

/** {@code GET /healthz}: the server is up and answering. */
final class HealthHandler extends JsonExchange {
    @Override
    protected void respond(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestURI().getPath().equals("/healthz")) {
            throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath());
        }
        requireMethod(exchange, "GET");
        send(exchange, 200, json -> {
            json.writeStartObject();
            json.writeStringField("status", "ok");
            json.writeEndObject();
        });
    }
}
