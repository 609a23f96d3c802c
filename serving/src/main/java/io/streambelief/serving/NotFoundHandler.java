package io.streambelief.serving;

import com.sun.net.httpserver.HttpExchange;

/** Every path no other handler claims. */
final class NotFoundHandler extends JsonExchange {
    @Override
    protected void respond(HttpExchange exchange) {
        throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath()
                + "; the API is GET /v1/models/{name}, GET /v1/models/{name}/metadata, POST /v1/models/{name}:predict, "
                + "GET /metrics and GET /healthz");
    }
}
