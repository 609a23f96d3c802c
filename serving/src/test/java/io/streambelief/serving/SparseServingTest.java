package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.topic.ModelDefinitions;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowUpdate;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.FeatureHash;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.SparseDefinition;
import io.streambelief.model.sparse.WideDeepEngine;
import io.streambelief.model.sparse.WideDeepSpec;
import io.streambelief.processes.broker.KafkaBroker;

/**
 * A sparse model served from its topics on a real broker: a request names raw fields, the server
 * derives ids with the model's schema, reads their rows from its local RocksDB (zeros for ids it
 * has no row for) and answers what the training engine computes — and a row published a moment
 * ago is in the next answer.
 */
class SparseServingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REQUEST = "{\"instances\": [{\"date\": \"01010530\", \"distance\": 370, "
            + "\"origin\": \"LAX\", \"destination\": \"PHX\"}]}";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void answersNamedFieldsWithTheRowsJustTrained() throws Exception {
        FeatureSchema schema = FeatureSchema.load("flights");
        WideDeepSpec model = WideDeepSpec.parse("widedeep:dim=4,mlp=8");
        EmbeddingTable table = new EmbeddingTable(4, RowOptimizer.parse("ftrl"), RowOptimizer.parse("adagrad"), 3);
        ModelSpec dense = model.denseSpec(schema.slots(), schema.numerics(), 3);
        ModelDefinition definition = new ModelDefinition("flights", dense, 1 << 16,
                new SparseDefinition(schema.source(), schema.json(), model, table));
        long lax = FeatureHash.id("origin", "LAX");
        try (KafkaBroker broker = KafkaBroker.builder(dir.resolve("kafka")).start()) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                Topics.ensure(admin, new TopicNames("ex", "params", "snapshots", "dl", "tm", "grads", "rows"), 1);
            }
            ModelDefinitions.publish(broker.bootstrapServers(), "params", definition);
            float[] first = {0.4f, 0.1f, -0.2f, 0.3f, 0.05f};
            publish(broker, new RowUpdate("flights", lax, 10, 1, first));
            ModelServer.Feed feed = ModelServer.Feed.latest(broker.bootstrapServers(), "params").withRows("rows")
                    .withStateDir(dir.resolve("state"));
            try (ModelServer server = ModelServer.start(ModelServer.Settings.defaults().withPort(0), feed)) {
                URI predict = URI.create("http://127.0.0.1:" + server.port() + "/v1/models/flights:predict");

                assertThat(awaitPrediction(predict, expected(dense, schema, first))).isTrue();

                float[] trained = {-0.9f, 0.5f, 0.5f, -0.5f, 0.25f};
                publish(broker, new RowUpdate("flights", lax, 11, 2, trained));
                assertThat(awaitPrediction(predict, expected(dense, schema, trained)))
                        .as("the row trained a moment ago is in the answer").isTrue();

                HttpResponse<String> unknownField = post(predict,
                        "{\"instances\": [{\"origin\": \"LAX\", \"gate\": \"B4\"}]}");
                assertThat(unknownField.statusCode()).isEqualTo(400);
                assertThat(JSON.readTree(unknownField.body()).path("error").asText())
                        .startsWith("instance 0: unknown field 'gate'");
                HttpResponse<String> rowFormat = post(predict, "{\"instances\": [[1, 2, 3]]}");
                assertThat(rowFormat.statusCode()).isEqualTo(400);

                HttpResponse<String> metadata = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + server.port() + "/v1/models/flights/metadata")).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode served = JSON.readTree(metadata.body()).path("streambelief");
                assertThat(served.path("sparse").path("request_fields").toString())
                        .isEqualTo("[\"date\",\"distance\",\"origin\",\"destination\"]");
                assertThat(served.path("spec").asText()).as("named as what it is").isEqualTo("widedeep:dim=4,mlp=8");
                assertThat(served.path("deep_spec").asText()).isEqualTo(dense.source());
                HttpResponse<String> status = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + server.port() + "/v1/models/flights")).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode statusBody = JSON.readTree(status.body());
                assertThat(statusBody.path("spec").asText()).isEqualTo("widedeep:dim=4,mlp=8");
                assertThat(statusBody.path("deep_spec").asText()).isEqualTo(dense.source());
                JsonNode rows = statusBody.path("rows");
                assertThat(rows.path("updates").asLong()).as("both updates of LAX's row").isEqualTo(2);
                assertThat(rows.path("held_estimate").asLong()).isPositive();
                assertThat(rows.path("new_rows").asLong()).as("LAX's, once").isOne();
                assertThat(rows.path("lag_p99_ms").isNull()).as("no update said when its gradients were created")
                        .isTrue();
                long sinceTheNewestUpdate = System.currentTimeMillis() - 2; // published at time 2
                assertThat(rows.path("newest_update_age_ms").asLong())
                        .isBetween(sinceTheNewestUpdate - 60_000, sinceTheNewestUpdate);
            }
        }
    }

    /** The probability the engine gives the request with LAX's row as {@code laxRow} and every other row zero. */
    private static float expected(ModelSpec dense, FeatureSchema schema, float[] laxRow) {
        int width = laxRow.length;
        float[] lookups = new float[schema.slots() * width];
        System.arraycopy(laxRow, 0, lookups, 0, width);
        var features = schema.features(Map.of("date", "01010530", "distance", "370", "origin", "LAX",
                "destination", "PHX")::get, false);
        try (WideDeepEngine engine = new WideDeepEngine(dense, schema.slots(), width - 1, schema.numerics())) {
            engine.setParameters(dense.initialParameters());
            return engine.predict(lookups, features.numerics(), 1)[0];
        }
    }

    private static boolean awaitPrediction(URI predict, float expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = post(predict, REQUEST);
            if (response.statusCode() == 200) {
                JsonNode answer = JSON.readTree(response.body());
                assertThat(answer.has("model_version")).isTrue();
                if (Math.abs(answer.path("predictions").path(0).path(0).floatValue() - expected) < 1e-6) {
                    return true;
                }
            }
            Thread.sleep(100);
        }
        return false;
    }

    private static void publish(KafkaBroker broker, RowUpdate update) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("rows", RowCodecs.updateKey(update.modelId(), update.id()),
                    RowCodecs.encode(update))).get();
        }
    }

    private static HttpResponse<String> post(URI uri, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
