package io.streambelief.serving;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

/**
 * The shape every endpoint shares: a JSON answer, or a JSON {@code {"error": ...}} with a 4xx
 * for a bad request and a bare 500 (details only in the log) for our own failures. No request
 * can take the server down or see a stack trace.
 */
abstract class JsonExchange implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(JsonExchange.class);
    static final JsonFactory JSON = new JsonFactory();

    @Override
    public final void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            try {
                respond(exchange);
            } catch (HttpError e) {
                sendError(exchange, e.status, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("Request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                sendError(exchange, 500, "internal error; see the server log");
            }
        } catch (IOException e) {
            LOG.debug("Client went away: {}", e.toString());
        }
    }

    /** Handles the request; throws {@link HttpError} to refuse it. */
    protected abstract void respond(HttpExchange exchange) throws IOException;

    interface Body {
        void write(JsonGenerator json) throws IOException;
    }

    static void send(HttpExchange exchange, int status, Body body) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (JsonGenerator json = JSON.createGenerator(buffer)) {
            body.write(json);
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, buffer.size());
        try (OutputStream out = exchange.getResponseBody()) {
            buffer.writeTo(out);
        }
    }

    static void sendError(HttpExchange exchange, int status, String message) throws IOException {
        send(exchange, status, json -> {
            json.writeStartObject();
            json.writeStringField("error", message);
            json.writeEndObject();
        });
    }

    static void requireMethod(HttpExchange exchange, String method) {
        if (!exchange.getRequestMethod().equalsIgnoreCase(method)) {
            exchange.getResponseHeaders().set("Allow", method);
            throw new HttpError(405, exchange.getRequestMethod() + " is not allowed here; use " + method);
        }
    }

    /** The request body, refusing bodies over {@code limit} bytes without reading them whole. */
    static byte[] readBody(HttpExchange exchange, long limit) throws IOException {
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.strip()) > limit) {
                    throw new HttpError(413, "request body is " + declared.strip() + " bytes, the limit is " + limit);
                }
            } catch (NumberFormatException e) {
                throw new HttpError(400, "Content-Length is not a number");
            }
        }
        InputStream in = exchange.getRequestBody();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = in.read(buffer)) > 0) {
            body.write(buffer, 0, n);
            if (body.size() > limit) {
                throw new HttpError(413, "request body is over the limit of " + limit + " bytes");
            }
        }
        return body.toByteArray();
    }
}
