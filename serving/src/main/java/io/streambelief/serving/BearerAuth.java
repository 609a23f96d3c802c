package io.streambelief.serving;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;

/**
 * With {@code --auth-token}, every request must carry {@code Authorization: Bearer <token>};
 * others get 401. Two paths stay open: {@code /healthz}, which load balancers probe without
 * credentials, and the dashboard's page at {@code /}, which holds no data (a browser cannot add
 * the header to a page it navigates to; the page sends the token with its data requests). The
 * comparison takes the same time however much of the token matches.
 */
final class BearerAuth extends Filter {
    private static final String SCHEME = "Bearer ";

    private final byte[] token;

    BearerAuth(String token) {
        if (token.isBlank()) {
            throw new IllegalArgumentException("The auth token must not be blank");
        }
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/healthz") || path.equals(DashboardHandler.PAGE_PATH) || authorized(exchange)) {
            chain.doFilter(exchange);
            return;
        }
        try (exchange) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"streambelief\"");
            JsonExchange.sendError(exchange, 401, "missing or wrong bearer token; send 'Authorization: Bearer <token>'");
        }
    }

    private boolean authorized(HttpExchange exchange) {
        return authorizes(exchange.getRequestHeaders().getFirst("Authorization"));
    }

    /** Whether an {@code Authorization} header's value (null when absent) carries the token. */
    boolean authorizes(String header) {
        if (header == null || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return false;
        }
        byte[] given = header.substring(SCHEME.length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, token);
    }

    @Override
    public String description() {
        return "bearer token";
    }
}
