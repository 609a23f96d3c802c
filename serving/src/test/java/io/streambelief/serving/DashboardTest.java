package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.ramp;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.processes.ProjectHome;
import io.streambelief.processes.broker.KafkaBroker;

/**
 * The dashboard in a real browser: a model and two workers' training reports on a real broker,
 * the server following them, and headless Chromium (installed by {@code infra/setup-chromium}
 * when missing) loading the page behind a bearer token and drawing what the server holds.
 */
@EnabledOnOs(OS.LINUX)
class DashboardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "dashboard-secret";
    private static final long T0 = System.currentTimeMillis() - 60_000;
    /** Every shard's record timestamp: the served version is three times this. */
    private static final long STAMP = System.currentTimeMillis() - 1_500;

    /** Kept when the test fails: the broker's log is in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void drawsTrainingCurvesAndTheServedModelInHeadlessChromium() throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder(dir.resolve("kafka")).start()) {
            publish(broker.bootstrapServers());
            ModelServer.Settings settings = ModelServer.Settings.defaults().withPort(0).withAuthToken(TOKEN);
            ModelServer.Feed feed = ModelServer.Feed.latest(broker.bootstrapServers(), "params").withMetrics("metrics");
            try (ModelServer server = ModelServer.start(settings, feed)) {
                URI base = URI.create("http://127.0.0.1:" + server.port());
                JsonNode model = awaitData(base);
                assertThat(model.path("name").asText()).isEqualTo("m");
                assertThat(model.path("training").size()).isEqualTo(20);
                assertThat(model.path("training").get(19).get(4).asLong()).as("both workers' latest counts")
                        .isEqualTo(10 * 640 + 10 * 640);
                assertThat(get(base.resolve("/dashboard/data"), null).statusCode()).as("data needs the token")
                        .isEqualTo(401);
                HttpResponse<String> page = get(base, null);
                assertThat(page.statusCode()).as("the page holds no data and is open").isEqualTo(200);
                assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
                assertThat(page.body()).doesNotContain("http://", "https://");

                runSetupScript();
                URI withToken = URI.create(base + "/#token=" + TOKEN);
                String dom = chromium(List.of("--dump-dom", withToken.toString()));
                assertThat(dom).contains("id=\"model-m\"")
                        .contains(String.format(Locale.ENGLISH, "%,d", 3 * STAMP))
                        .contains("data-points-drawn=\"")
                        .contains("latest consistency · updated");
                int drawn = Integer.parseInt(dom.replaceAll("(?s).*data-points-drawn=\"(\\d+)\".*", "$1"));
                assertThat(drawn).as("points drawn: loss and accuracy of 20 reports, rates, samples").isGreaterThan(40);

                Path screenshot = Path.of("target", "dashboard.png").toAbsolutePath();
                Files.deleteIfExists(screenshot);
                chromium(List.of("--screenshot=" + screenshot, withToken.toString()));
                assertThat(screenshot).exists();
                assertThat(Files.size(screenshot)).as("a drawn page, not a blank one").isGreaterThan(20_000);
            }
        }
    }

    /** The model and ten reports from each of two workers. */
    private static void publish(String bootstrapServers) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            Topics.ensure(admin, new TopicNames("examples", "params", "snapshots", "dead", "metrics"), 1);
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("params", ModelIds.definitionKey("m"),
                    ModelDefinitionCodec.encode(DEFINITION)));
            float[] parameters = ramp(LAYOUT.numParams());
            for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
                producer.send(new ProducerRecord<>("params", ModelIds.shardKey("m", shard),
                        ParamUpdateCodec.encode(new ParamUpdate("m", shard, 20, 1_280, STAMP,
                                LAYOUT.slice(parameters, shard)))));
            }
            for (int i = 1; i <= 10; i++) {
                for (int worker = 0; worker < 2; worker++) {
                    TrainingMetrics report = TrainingMetrics.of("m", worker, T0 + i * 2_000L + worker * 300, i * 640L,
                            640, 2.0, 2.3 / i + 0.1 * worker, 0.1 + 0.07 * i);
                    producer.send(new ProducerRecord<>("metrics", "m", report.toJson()));
                }
            }
        }
    }

    private static JsonNode awaitData(URI base) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            HttpResponse<String> response = get(base.resolve("/dashboard/data"), TOKEN);
            JsonNode models = JSON.readTree(response.body()).path("models");
            if (models.size() == 1 && models.get(0).path("training").size() == 20
                    && models.get(0).path("served").size() >= 2 && models.get(0).path("model_version").asLong() > 0) {
                return models.get(0);
            }
            assertThat(System.nanoTime()).as("dashboard data within 60 s: " + response.body()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static HttpResponse<String> get(URI uri, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void runSetupScript() throws Exception {
        Path script = ProjectHome.find().orElseThrow().resolve("infra/setup-chromium");
        Process setup = new ProcessBuilder(script.toString()).redirectErrorStream(true).start();
        String output = new String(setup.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(setup.waitFor(10, TimeUnit.MINUTES)).isTrue();
        assertThat(setup.exitValue()).as("infra/setup-chromium:\n" + output).isZero();
    }

    /** Runs headless Chromium with {@code args}; returns what it printed on standard output. */
    private static String chromium(List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,1000",
                "--virtual-time-budget=5000"));
        command.addAll(args);
        Path log = Files.createTempFile("chromium", ".log");
        Process browser = new ProcessBuilder(command).redirectError(log.toFile()).start();
        String out = new String(browser.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!browser.waitFor(90, TimeUnit.SECONDS)) {
            browser.destroyForcibly();
            throw new AssertionError("chromium did not finish within 90 s: " + Files.readString(log));
        }
        assertThat(browser.exitValue()).as("chromium: " + Files.readString(log)).isZero();
        Files.delete(log);
        return out;
    }
}
