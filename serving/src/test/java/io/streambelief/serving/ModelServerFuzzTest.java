package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.define;
import static io.streambelief.serving.ModelStoreTest.publishShard;
import static io.streambelief.serving.ModelStoreTest.ramp;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.model.record.ParamUpdate;

/**
 * Thousands of malformed requests, seeded: random bytes, valid requests cut short or with bytes
 * flipped, inserted or deleted, wrong nesting and types, extreme numbers, deep nesting, long
 * rows, odd paths and methods. Every answer must be a 4xx with a JSON error, or a 200 whose
 * predictions fit the request; never a 5xx, and the server still answers afterwards.
 */
class ModelServerFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int REQUESTS = 3_000;
    private static final String VALID = "{\"instances\": [[1, -1, 0.5, 2], [0, 0, 0, 0]]}";
    private static final List<String> FRAGMENTS = List.of("{", "}", "[", "]", ",", ":", "\"instances\"", "\"inputs\"",
            "\"x\"", "1", "-0.5", "1e309", "-1e-400", "NaN", "Infinity", "-Infinity", "null", "true", "\"s\"",
            "12345678901234567890123", "0x1F", "\u00e9", "\ud83d\ude00", " ", "\\u0000", "\"", "[[1,2,3,4]]",
            "[{\"x\": [1,2,3,4]}]", "{\"x\": [[1,2,3,4]]}");
    private static final List<String> PATHS = List.of("/v1/models/m:predict", "/v1/models/m/labels/latest:predict",
            "/v1/models/m/labels/average:predict", "/v1/models/m", "/v1/models/m/metadata", "/v1/models/:predict",
            "/v1/models/m:predict/x", "/v1/models/%00:predict", "/v1/models/m/metadata:predict", "/v1/models/",
            "/v1/models/m/labels/:predict", "/metrics", "/healthz", "/", "/v1/models/m/versions/1");

    @Test
    void noRequestGetsA5xxOrTakesTheServerDown() throws Exception {
        ModelStore store = ModelStoreTest.servedStore();
        Random random = new Random(20261125);
        HttpClient http = HttpClient.newHttpClient();
        try (ModelServer server = ModelServer.start(ModelServer.Settings.defaults().withPort(0)
                .withMaxRequestBytes(64 * 1024), store)) {
            URI base = URI.create("http://127.0.0.1:" + server.port());
            int ok = 0;
            for (int i = 0; i < REQUESTS; i++) {
                String path = random.nextInt(4) == 0 ? PATHS.get(random.nextInt(PATHS.size())) : "/v1/models/m:predict";
                byte[] body = body(random);
                String method = switch (random.nextInt(10)) {
                    case 0 -> "GET";
                    case 1 -> "PUT";
                    case 2 -> "DELETE";
                    default -> "POST";
                };
                HttpRequest.BodyPublisher publisher = method.equals("GET") || method.equals("DELETE")
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body);
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(path))
                        .method(method, publisher).build(), HttpResponse.BodyHandlers.ofString());
                String what = method + " " + path + " " + new String(body, 0, Math.min(body.length, 300),
                        StandardCharsets.UTF_8);
                assertThat(response.statusCode()).as(what).isLessThan(500);
                if (response.statusCode() == 200) {
                    ok++;
                    assertWellFormedAnswer(path, body, response.body(), what);
                } else {
                    assertThat(response.statusCode()).as(what).isBetween(400, 499);
                    assertThat(JSON.readTree(response.body()).path("error").asText()).as(what).isNotBlank();
                }
            }
            assertThat(ok).as("some mutations stay valid: the fuzzing reaches the prediction path").isPositive();

            HttpResponse<String> after = http.send(HttpRequest.newBuilder(base.resolve("/v1/models/m:predict"))
                    .POST(HttpRequest.BodyPublishers.ofString(VALID)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(after.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(after.body()).path("predictions").size()).isEqualTo(2);
        }
    }

    /** A 200 to a predict request carries one row of two finite probabilities per instance. */
    private static void assertWellFormedAnswer(String path, byte[] request, String answer, String what) throws Exception {
        if (!path.endsWith(":predict")) {
            return;
        }
        JsonNode body = JSON.readTree(answer);
        JsonNode rows = body.has("outputs") ? body.path("outputs") : body.path("predictions");
        JsonNode sent = JSON.readTree(request);
        JsonNode instances = sent.has("instances") ? sent.path("instances") : sent.path("inputs");
        if (instances.isObject()) {
            instances = instances.elements().next();
        }
        assertThat(rows.size()).as(what).isEqualTo(instances.size());
        for (JsonNode row : rows) {
            assertThat(row.size()).as(what).isEqualTo(2);
            row.forEach(p -> assertThat(Double.isFinite(p.asDouble())).as(what).isTrue());
        }
        assertThat(body.path("model_version").asLong()).isPositive();
    }

    private static byte[] body(Random random) {
        return switch (random.nextInt(8)) {
            case 0 -> {
                byte[] bytes = new byte[random.nextInt(200)];
                random.nextBytes(bytes);
                yield bytes;
            }
            case 1 -> VALID.substring(0, random.nextInt(VALID.length())).getBytes(StandardCharsets.UTF_8);
            case 2 -> {
                StringBuilder s = new StringBuilder();
                for (int n = random.nextInt(30); n > 0; n--) {
                    s.append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
                }
                yield s.toString().getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> ("{\"instances\": " + "[".repeat(random.nextInt(5_000)) + "1"
                    + "]".repeat(random.nextInt(5_000)) + "}").getBytes(StandardCharsets.UTF_8);
            case 4 -> ("{\"instances\": [[" + "1,".repeat(random.nextInt(20_000)) + "1]]}")
                    .getBytes(StandardCharsets.UTF_8);
            case 5 -> ("{\"instances\": [[" + number(random) + ", " + number(random) + ", " + number(random) + ", "
                    + number(random) + "]]}").getBytes(StandardCharsets.UTF_8);
            default -> mutated(random);
        };
    }

    private static String number(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> "1e" + (random.nextInt(800) - 400);
            case 1 -> "-" + random.nextLong();
            case 2 -> "1" + "0".repeat(random.nextInt(400));
            case 3 -> "0." + "0".repeat(random.nextInt(400)) + "1";
            case 4 -> Float.toString(random.nextFloat());
            default -> "\"" + random.nextInt() + "\"";
        };
    }

    /** A valid request with a few bytes flipped, inserted or deleted. */
    private static byte[] mutated(Random random) {
        StringBuilder s = new StringBuilder(random.nextBoolean() ? VALID
                : "{\"inputs\": {\"x\": [[1, -1, 0.5, 2], [0, 0, 0, 0]]}}");
        for (int n = 1 + random.nextInt(3); n > 0 && s.length() > 0; n--) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(3)) {
                case 0 -> s.setCharAt(at, (char) (32 + random.nextInt(95)));
                case 1 -> s.insert(at, FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
                default -> s.deleteCharAt(at);
            }
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }
}
