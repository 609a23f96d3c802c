package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

/**
 * {@code /v1/models/...}: each path and method reaches its endpoint; any other is refused with a
 * 4xx that says what to send instead, before a model is looked up or a body read.
 */
class ModelsRouterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpServer server;
    private static URI base;

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(ModelsRouter.PREFIX,
                new ModelsRouter(ModelStoreTest.servedStore(), null, 1 << 20, PredictionBatcher.Settings.OFF));
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    @Test
    void eachPathReachesItsEndpoint() throws Exception {
        assertThat(answer(get("/v1/models/m")).has("model_version_status")).as("status").isTrue();
        assertThat(answer(get("/v1/models/m/metadata")).path("model_spec").path("name").asText()).as("metadata")
                .isEqualTo("m");
        String row = "{\"instances\": [[1, 2, 3, 4]]}";
        assertThat(answer(post("/v1/models/m:predict", row)).path("parameters").asText()).as("default parameters")
                .isEqualTo("latest");
        assertThat(answer(post("/v1/models/m/labels/latest:predict", row)).path("predictions").size())
                .as("labelled parameters").isEqualTo(1);
    }

    @Test
    void anUnknownPathIsA404ThatListsTheEndpoints() throws Exception {
        for (String path : new String[] {"/v1/models/", "/v1/models/m/extra", "/v1/models/m/metadata/x",
                "/v1/models/m:explain"}) {
            assertError(get(path), 404, "no such resource: " + path + "; use GET /v1/models/{name}, "
                    + "GET /v1/models/{name}/metadata or POST /v1/models/{name}:predict");
        }
    }

    @Test
    void aWrongMethodIsA405ThatNamesTheRightOne() throws Exception {
        HttpResponse<String> predictByGet = get("/v1/models/m:predict");
        assertError(predictByGet, 405, "GET is not allowed here; use POST");
        assertThat(predictByGet.headers().firstValue("Allow")).hasValue("POST");
        assertError(post("/v1/models/m", "{}"), 405, "POST is not allowed here; use GET");
        assertError(post("/v1/models/m/metadata", "{}"), 405, "POST is not allowed here; use GET");
        assertError(get("/v1/models/nope:predict"), 405, "GET is not allowed here; use POST");
    }

    @Test
    void anUnknownModelOrLabelIsA404() throws Exception {
        assertError(get("/v1/models/nope"), 404, "model 'nope' is not served here; models: [m]");
        assertError(get("/v1/models/nope/metadata"), 404, "model 'nope' is not served here; models: [m]");
        assertError(post("/v1/models/nope:predict", "not even JSON"), 404,
                "model 'nope' is not served here; models: [m]");
        assertError(post("/v1/models/m/labels/average:predict", "{}"), 404,
                "model 'm' has no 'average' parameters (the job keeps no average: --average-decay 0)");
        assertError(post("/v1/models/m/labels/newest:predict", "{}"), 404,
                "unknown label 'newest'; labels are 'average' and 'latest'");
    }

    private static JsonNode answer(HttpResponse<String> response) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static void assertError(HttpResponse<String> response, int status, String message) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(JSON.readTree(response.body()).path("error").asText()).isEqualTo(message);
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
