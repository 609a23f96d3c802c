package io.streambelief.serving;

import com.sun.net.httpserver.HttpExchange;

/** Every path no other handler claims. */
final class NotFoundHandler extends JsonExchange {
    @Override
    protected void respond(HttpExchange exchange) {
        throw new HttpError(404, "no such resource: " + exchange.getRequestURI().getPath()
                + "; the API is GET /v1/models/{name}, POST /v1/models/{name}:predict and GET /healthz");
    }
}
