package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.define;
import static io.streambelief.serving.ModelStoreTest.dl4jOutput;
import static io.streambelief.serving.ModelStoreTest.publishShard;
import static io.streambelief.serving.ModelStoreTest.ramp;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ParamUpdate;

/** The REST surface, over real HTTP, on a store fed directly. */
class ModelServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static final ModelStore store = new ModelStore();
    private static ModelServer server;
    private static final long PUBLISHED_AT = System.currentTimeMillis();
    /** The served version: the sum of the shards' record timestamps. */
    private static final long VERSION = LAYOUT.shardCount() * PUBLISHED_AT;
    private static URI base;

    @BeforeAll
    static void start() throws IOException {
        server = ModelServer.start(ModelServer.Settings.defaults().withPort(0), store);
        base = URI.create("http://127.0.0.1:" + server.port());
        define(store, DEFINITION);
        float[] parameters = ramp(LAYOUT.numParams());
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            publishShard(store, new ParamUpdate("m", shard, 5, 320, PUBLISHED_AT,
                    LAYOUT.slice(parameters, shard)));
        }
        store.publish();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The job's options name these topics the same way, so one set of names configures both. */
    @Test
    void everyTopicTheServerReadsIsAnOptionNamedAsTheJobNamesIt() {
        ModelServer.ServeCommand given = new ModelServer.ServeCommand();
        ModelServer.commandLine(given).parseArgs("--bootstrap-servers", "127.0.0.1:9092", "--params-topic", "p",
                "--snapshots-topic", "s", "--metrics-topic", "m", "--embedding-rows-topic", "r");
        ModelServer.ServeCommand older = new ModelServer.ServeCommand();
        ModelServer.commandLine(older).parseArgs("--bootstrap-servers", "127.0.0.1:9092", "--rows-topic", "r");

        assertThat(List.of(given.paramsTopic, given.snapshotsTopic, given.metricsTopic, given.rowsTopic))
                .containsExactly("p", "s", "m", "r");
        assertThat(older.rowsTopic).as("the option's older name").isEqualTo("r");
    }

    @Test
    void theStatusNamesTheVersionAndWhatItWasTrainedOn() throws Exception {
        HttpResponse<String> response = get("/v1/models/m");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode status = JSON.readTree(response.body());
        assertThat(status.path("model_version").asLong()).isEqualTo(VERSION);
        assertThat(status.path("examples_trained").asLong()).isEqualTo(320);
        assertThat(status.path("spec").asText()).isEqualTo("mlp:4-3-2");
        assertThat(status.path("num_inputs").asInt()).isEqualTo(4);
        assertThat(status.path("num_outputs").asInt()).isEqualTo(2);
        assertThat(status.path("shards").asInt()).isEqualTo(3);
        assertThat(status.path("served_parameters").asText()).isEqualTo("latest");
        assertThat(status.path("age_ms").asLong()).isBetween(0L, 60_000L);
    }

    @Test
    void predictAnswersWhatDl4jComputesForTheServedParameters() throws Exception {
        HttpResponse<String> response = post("/v1/models/m:predict", "{\"instances\": [[1, -1, 0.5, 2], [0, 0, 0, 0]]}");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.path("model_version").asLong()).isEqualTo(VERSION);
        assertThat(body.path("parameters").asText()).isEqualTo("latest");
        float[] expected = dl4jOutput(ramp(LAYOUT.numParams()), new float[] {1, -1, 0.5f, 2});
        JsonNode first = body.path("predictions").get(0);
        assertThat(first.size()).isEqualTo(2);
        for (int c = 0; c < 2; c++) {
            assertThat((float) first.get(c).asDouble()).isCloseTo(expected[c], ModelStoreTest.within());
        }
        assertThat(body.path("predictions").size()).isEqualTo(2);
        assertThat(post("/v1/models/m/labels/latest:predict", "{\"instances\": [[1, -1, 0.5, 2]]}").statusCode())
                .isEqualTo(200);
    }

    @Test
    void withBatchingConcurrentClientsGetWhatDl4jComputesForTheirOwnRowsFromFewerPasses() throws Exception {
        int clients = 8;
        ModelServer.Settings settings = ModelServer.Settings.defaults().withPort(0)
                .withBatching(new PredictionBatcher.Settings(64, Duration.ofSeconds(1)));
        ServedModel.Network network = store.get("m").orElseThrow().latest();
        long passesBefore = network.passes();
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try (ModelServer batching = ModelServer.start(settings, store)) {
            CyclicBarrier together = new CyclicBarrier(clients);
            List<Future<JsonNode>> answers = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                String row = "[" + c + ", " + (-c) + ", 0.5, 2]";
                answers.add(threads.submit(() -> {
                    together.await();
                    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + batching.port() + "/v1/models/m:predict"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [" + row + ", " + row + "]}"))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                    return JSON.readTree(response.body());
                }));
            }
            for (int c = 0; c < clients; c++) {
                float[] expected = dl4jOutput(ramp(LAYOUT.numParams()), new float[] {c, -c, 0.5f, 2});
                JsonNode predictions = answers.get(c).get(1, TimeUnit.MINUTES).path("predictions");
                assertThat(predictions.size()).isEqualTo(2);
                for (JsonNode prediction : predictions) {
                    for (int k = 0; k < 2; k++) {
                        assertThat((float) prediction.get(k).asDouble()).as("client %d", c)
                                .isCloseTo(expected[k], ModelStoreTest.within());
                    }
                }
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(network.passes() - passesBefore).as("forward passes for %d requests", clients)
                .isLessThanOrEqualTo(clients / 2);
    }

    @Test
    void theColumnarFormatAndNamedInputsAnswerLikeTheRowFormat() throws Exception {
        String rows = "[[1, -1, 0.5, 2], [0, 0, 0, 0]]";
        JsonNode byRows = JSON.readTree(post("/v1/models/m:predict", "{\"instances\": " + rows + "}").body());

        JsonNode columnar = JSON.readTree(post("/v1/models/m:predict", "{\"inputs\": " + rows + "}").body());
        JsonNode namedColumnar = JSON.readTree(post("/v1/models/m:predict", "{\"inputs\": {\"x\": " + rows + "}}").body());
        JsonNode namedRows = JSON.readTree(post("/v1/models/m:predict",
                "{\"signature_name\": \"serving_default\", \"instances\": [{\"x\": [1, -1, 0.5, 2]}, {\"x\": [0, 0, 0, 0]}]}")
                .body());

        assertThat(columnar.path("outputs")).as("TF Serving answers columnar requests with 'outputs'")
                .isEqualTo(byRows.path("predictions"));
        assertThat(columnar.has("predictions")).isFalse();
        assertThat(namedColumnar.path("outputs")).isEqualTo(byRows.path("predictions"));
        assertThat(namedRows.path("predictions")).isEqualTo(byRows.path("predictions"));
        assertThat(columnar.path("model_version").asLong()).isEqualTo(VERSION);
    }

    @Test
    void theStatusHasTfServingsVersionStatusAndTheMetadataItsSignature() throws Exception {
        JsonNode status = JSON.readTree(get("/v1/models/m").body());
        JsonNode version = status.path("model_version_status").get(0);
        assertThat(version.path("version").asText()).isEqualTo(Long.toString(VERSION));
        assertThat(version.path("state").asText()).isEqualTo("AVAILABLE");
        assertThat(version.path("status").path("error_code").asText()).isEqualTo("OK");

        HttpResponse<String> response = get("/v1/models/m/metadata");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode metadata = JSON.readTree(response.body());
        assertThat(metadata.path("model_spec").path("name").asText()).isEqualTo("m");
        assertThat(metadata.path("model_spec").path("version").asText()).isEqualTo(Long.toString(VERSION));
        JsonNode signature = metadata.path("metadata").path("signature_def").path("signature_def").path("serving_default");
        assertThat(signature.path("inputs").path("x").path("tensor_shape").path("dim").get(1).path("size").asText())
                .isEqualTo("4");
        assertThat(signature.path("outputs").path("probabilities").path("tensor_shape").path("dim").get(1)
                .path("size").asText()).isEqualTo("2");
        assertThat(metadata.path("streambelief").path("spec").asText()).isEqualTo("mlp:4-3-2");
        assertThat(metadata.path("streambelief").path("num_classes").asInt()).isEqualTo(2);
        assertError(get("/v1/models/nope/metadata"), 404, "model 'nope' is not served here");
    }

    @Test
    void metricsCountRequestsByEndpointAndStatusAndReportEachModel() throws Exception {
        post("/v1/models/m:predict", "{\"instances\": [[1, 2, 3, 4]]}");
        post("/v1/models/m:predict", "{\"instances\": [[1, 2, 3]]}");
        get("/v1/models/no-such-model-" + System.nanoTime());

        HttpResponse<String> response = get("/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        String text = response.body();
        assertThat(text).containsPattern("streambelief_http_requests_total\\{code=\"200\",endpoint=\"predict\"} [1-9]");
        assertThat(text).containsPattern("streambelief_http_requests_total\\{code=\"400\",endpoint=\"predict\"} [1-9]");
        assertThat(text).containsPattern("streambelief_http_requests_total\\{code=\"404\",endpoint=\"status\"} [1-9]");
        assertThat(text).as("no label per model name a client made up").doesNotContain("no-such-model");
        assertThat(text).contains("streambelief_http_request_duration_seconds_bucket{endpoint=\"predict\",le=\"0.01\"}");
        Matcher version = Pattern.compile("streambelief_model_version\\{model=\"m\"} (\\S+)").matcher(text);
        assertThat(version.find()).as(text).isTrue();
        assertThat(Double.parseDouble(version.group(1))).isEqualTo((double) VERSION);
        assertThat(text).contains("streambelief_model_examples_trained{model=\"m\"} 320");
        assertThat(text).contains("streambelief_model_swaps_total");
        assertThat(text).contains("streambelief_model_age_seconds{model=\"m\"}");
        assertThat(text).contains("streambelief_records_stale_total");
    }

    @Test
    void withATokenEveryRequestButTheHealthCheckNeedsIt() throws Exception {
        try (ModelServer guarded = ModelServer.start(ModelServer.Settings.defaults().withPort(0)
                .withAuthToken("s3cret"), store)) {
            URI guardedBase = URI.create("http://127.0.0.1:" + guarded.port());
            HttpRequest.Builder predict = HttpRequest.newBuilder(guardedBase.resolve("/v1/models/m:predict"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [[1, 2, 3, 4]]}"));

            HttpResponse<String> without = HTTP.send(predict.build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> wrong = HTTP.send(predict.copy().header("Authorization", "Bearer s3cre").build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> right = HTTP.send(predict.copy().header("Authorization", "Bearer s3cret").build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(guardedBase.resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(guardedBase.resolve("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertError(without, 401, "missing or wrong bearer token");
            assertThat(without.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"streambelief\"");
            assertError(wrong, 401, "missing or wrong bearer token");
            assertThat(right.statusCode()).as(right.body()).isEqualTo(200);
            assertThat(metrics.statusCode()).isEqualTo(401);
            assertThat(health.statusCode()).isEqualTo(200);
        }
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "''                                    | 400 | empty request body; send {\"instances\": [[...], ...]}",
        "[1, 2]                                | 400 | request must be a JSON object {\"instances\": [[...], ...]}",
        "{\"instances\": [[1, 2, 3, 4]       | 400 | malformed JSON: ",
        "{\"rows\": [[1, 2, 3, 4]]}            | 400 | missing 'instances'; send {\"instances\": [[...], ...]}",
        "{\"instances\": [[1,2,3,4]], \"inputs\": [[1,2,3,4]]} | 400 | send either 'instances' (row format) or 'inputs'",
        "{\"inputs\": {\"a\": [[1,2,3,4]], \"b\": [[1,2,3,4]]}} | 400 | inputs names more than one input",
        "{\"instances\": [{\"x\": [1,2,3,4], \"y\": 1}]} | 400 | instances[0] names more than one input",
        "{\"inputs\": [[1, 2, 3]]}             | 400 | inputs[0] has 3 values; the model takes 4",
        "{\"instances\": []}                   | 400 | 'instances' is empty",
        "{\"instances\": 5}                    | 400 | 'instances' must be an array of rows",
        "{\"instances\": [1, 2, 3, 4]}         | 400 | instances[0] must be an array of 4 numbers",
        "{\"instances\": [[1, 2, 3]]}          | 400 | instances[0] has 3 values; the model takes 4",
        "{\"instances\": [[1, 2, 3, 4, 5]]}    | 400 | instances[0] has more than 4 values; the model takes 4",
        "{\"instances\": [[1, 2, \"x\", 4]]}   | 400 | instances[0][2] is not a number",
        "{\"instances\": [[1, 2, NaN, 4]]}     | 400 | instances[0][2] is NaN; values must be finite",
        "{\"instances\": [[1,2,3,4]]} trailing | 400 | malformed JSON: ",
    })
    void badPredictRequestsGetA4xxThatSaysWhatIsWrong(String body, int status, String message) throws Exception {
        assertError(post("/v1/models/m:predict", body), status, message);
    }

    @Test
    void unknownModelsLabelsPathsAndMethodsAreRefused() throws Exception {
        assertError(get("/v1/models/nope"), 404, "model 'nope' is not served here; models: [");
        assertError(post("/v1/models/m/labels/average:predict", "{\"instances\": [[1, 2, 3, 4]]}"), 404,
                "model 'm' has no 'average' parameters");
        assertError(post("/v1/models/m/labels/newest:predict", "{}"), 404, "unknown label 'newest'");
        assertError(get("/v1/models/m:predict"), 405, "GET is not allowed here; use POST");
        assertError(post("/v1/models/m", "{}"), 405, "POST is not allowed here; use GET");
        assertError(get("/v2/anything"), 404, "no such resource");
        assertError(get("/v1/models/m/extra"), 404, "no such resource");
    }

    @Test
    void severalModelsAreServedSideBySideByName() throws Exception {
        ModelDefinition wide = new ModelDefinition("wide", ModelSpec.parse("mlp:3-5-4", 9), 8);
        define(store, wide);
        float[] parameters = ramp(wide.layout().numParams());
        for (int shard = 0; shard < wide.layout().shardCount(); shard++) {
            publishShard(store, new ParamUpdate("wide", shard, 2, 64, 1_000, wide.layout().slice(parameters, shard)));
        }
        store.publish();

        JsonNode status = JSON.readTree(get("/v1/models/wide").body());
        assertThat(status.path("model_version").asLong()).isEqualTo(1_000L * wide.layout().shardCount());
        assertThat(status.path("num_outputs").asInt()).isEqualTo(4);
        JsonNode answer = JSON.readTree(post("/v1/models/wide:predict", "{\"instances\": [[1, 2, 3]]}").body());
        assertThat(answer.path("predictions").get(0).size()).isEqualTo(4);
        assertThat(JSON.readTree(get("/v1/models/m").body()).path("model_version").asLong())
                .as("the other model is untouched").isEqualTo(VERSION);
        assertError(post("/v1/models/wide:predict", "{\"instances\": [[1, -1, 0.5, 2]]}"), 400,
                "instances[0] has more than 3 values; the model takes 3");
        assertError(get("/v1/models/nope"), 404, "model 'nope' is not served here; models: [");
        assertThat(get("/v1/models/nope").body()).contains("wide").contains("m");
    }

    @Test
    void oversizedBodiesAreRefusedBeforeTheyAreRead() throws Exception {
        try (ModelServer small = ModelServer.start(ModelServer.Settings.defaults().withPort(0).withMaxRequestBytes(100), store)) {
            URI smallBase = URI.create("http://127.0.0.1:" + small.port());
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(smallBase.resolve("/v1/models/m:predict"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [[" + "0,".repeat(100) + "0]]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());

            assertError(response, 413, "request body is 220 bytes, the limit is 100");
        }
    }

    /** 16 MiB of a small model's rows would be millions of arrays: a request holds at most 10,000. */
    @Test
    void aRequestOfMoreRowsThanTheLimitIsRefused() throws Exception {
        String rows = "[1,2,3,4],".repeat(PredictEndpoint.MAX_INSTANCES);

        assertThat(post("/v1/models/m:predict", "{\"instances\": [" + rows + "[1,2,3,4]]}").statusCode())
                .isEqualTo(413);
        assertThat(post("/v1/models/m:predict", "{\"instances\": [" + rows.substring(0, rows.length() - 1) + "]}")
                .statusCode()).isEqualTo(200);
    }

    @Test
    void theJavaClientReadsTheStatusAndPredictions() throws Exception {
        ModelClient client = new ModelClient(base, "m");
        float[] row = {1, -1, 0.5f, 2};
        float[] expected = dl4jOutput(ramp(LAYOUT.numParams()), row);

        assertThat(client.status()).hasValueSatisfying(status -> {
            assertThat(status.modelVersion()).isEqualTo(VERSION);
            assertThat(status.examplesTrained()).isEqualTo(320);
        });
        assertThat(client.awaitExamplesTrained(320, java.time.Duration.ofSeconds(5)).modelVersion()).isEqualTo(VERSION);
        assertThat(client.predict(List.of(row), null)[0]).containsExactly(expected, ModelStoreTest.within());
        int predicted = expected[0] > expected[1] ? 0 : 1;
        assertThat(client.accuracy(List.of(new io.streambelief.model.Example(row, predicted),
                new io.streambelief.model.Example(row, 1 - predicted)), "latest")).isEqualTo(0.5);
        assertThat(new ModelClient(base, "absent").status()).isEmpty();
    }

    @Test
    void healthz() throws Exception {
        HttpResponse<String> response = get("/healthz");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(response.body()).path("status").asText()).isEqualTo("ok");
    }

    /**
     * While new versions are swapped in as fast as they can be, every answer is computed with one
     * whole version: the one it names. Each version v is a model whose output is a known function
     * of v (only the output bias is set, to v / 1000), so a mix of two versions would show.
     */
    @Test
    void answersNeverMixTwoVersionsDuringHotSwaps() throws Exception {
        define(store, new ModelDefinition("h", DEFINITION.spec(), DEFINITION.shardSize()));
        publishVersion(1);
        AtomicBoolean swapping = new AtomicBoolean(true);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        Future<?> publisher = threads.submit(() -> {
            for (long v = 2; swapping.get(); v++) {
                publishVersion(v);
            }
            return null;
        });
        List<Future<Integer>> clients = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            clients.add(threads.submit(() -> {
                int checked = 0;
                for (int i = 0; i < 150; i++) {
                    JsonNode body = JSON.readTree(post("/v1/models/h:predict", "{\"instances\": [[1, 2, 3, 4]]}").body());
                    long version = body.path("model_version").asLong();
                    double p0 = 1 / (1 + Math.exp(-version / 1000.0));
                    assertThat(body.path("predictions").get(0).get(0).asDouble()).isCloseTo(p0,
                            org.assertj.core.data.Offset.offset(1e-6));
                    checked++;
                }
                return checked;
            }));
        }
        int checked = 0;
        for (Future<Integer> client : clients) {
            checked += client.get(2, TimeUnit.MINUTES);
        }
        swapping.set(false);
        publisher.get(1, TimeUnit.MINUTES);
        threads.shutdown();

        assertThat(checked).isEqualTo(450);
        assertThat(store.swaps()).isGreaterThan(10);
    }

    /** Version v of model h: zero weights, so the output is softmax of the output bias (v / 1000, 0). */
    private static void publishVersion(long v) {
        float[] parameters = new float[LAYOUT.numParams()];
        parameters[parameters.length - 2] = v / 1000f;
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            // Shard timestamps 0, 0, v: the served version is v.
            publishShard(store, new ParamUpdate("h", shard, v, v, shard == 2 ? v : 0, LAYOUT.slice(parameters, shard)));
        }
        store.publish();
    }

    private static void assertError(HttpResponse<String> response, int status, String message) throws IOException {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(JSON.readTree(response.body()).path("error").asText()).startsWith(message);
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
