package io.streambelief.serving;

import static io.streambelief.serving.ModelStoreTest.DEFINITION;
import static io.streambelief.serving.ModelStoreTest.LAYOUT;
import static io.streambelief.serving.ModelStoreTest.define;
import static io.streambelief.serving.ModelStoreTest.publishShard;
import static io.streambelief.serving.ModelStoreTest.ramp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import org.junit.jupiter.api.Test;

import io.streambelief.model.record.ParamUpdate;

/**
 * Slow clients: each sends a prediction request's headers and the first bytes of its body, then
 * nothing. The server holds each for the request timeout and then closes its connection; all the
 * while everyone else gets answers, well within the timeout. Over the maximum of concurrent
 * requests, a connection is closed at once rather than queued behind the slow ones.
 */
class ModelServerSlowClientTest {
    /** Well below the request timeout, with room for a loaded machine. */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(2);
    /** Twice the threads the server once had: enough to have stopped it. */
    private static final int SLOW_CLIENTS = 16;
    private static final String PREDICTION = "{\"instances\": [[1, -1, 0.5, 2]]}";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(ANSWER_WITHIN).build();
    private final ModelStore store = ModelStoreTest.servedStore();

    @Test
    void slowClientsAreCutOffAfterTheRequestTimeoutWhileHealthChecksAndPredictionsAreAnswered() throws Exception {
        ModelServer.Settings settings = ModelServer.Settings.defaults().withPort(0);
        Duration timeout = settings.requestTimeout();
        try (ModelServer server = ModelServer.start(settings, store)) {
            URI base = URI.create("http://127.0.0.1:" + server.port());
            answered(base, "/healthz", null, Duration.ofSeconds(30));
            answered(base, "/v1/models/m:predict", PREDICTION, Duration.ofSeconds(30));
            List<SlowClient> slowClients = new ArrayList<>();
            for (int i = 0; i < SLOW_CLIENTS; i++) {
                slowClients.add(SlowClient.send(server.port()));
            }

            // Measured until shortly before the first slow client may be cut off.
            long measureUntil = slowClients.get(0).sentAt + timeout.minusSeconds(1).toNanos();
            int mostInProgress = 0;
            int rounds = 0;
            do {
                answered(base, "/healthz", null, ANSWER_WITHIN);
                answered(base, "/v1/models/m:predict", PREDICTION, ANSWER_WITHIN);
                mostInProgress = Math.max(mostInProgress, server.requestsInProgress());
                rounds++;
            } while (System.nanoTime() < measureUntil);

            assertThat(mostInProgress).as("the slow clients were being held while the others were answered")
                    .isGreaterThanOrEqualTo(SLOW_CLIENTS);
            assertThat(rounds).isPositive();
            for (SlowClient slow : slowClients) {
                assertThat(slow.awaitCutOff(timeout.plusSeconds(5))).as("held for about the request timeout")
                        .isBetween(timeout.minusMillis(100), timeout.plusSeconds(5));
            }
            answered(base, "/healthz", null, ANSWER_WITHIN);
        }
    }

    @Test
    void overTheMaximumOfConcurrentRequestsAConnectionIsClosedAtOnceNotQueued() throws Exception {
        ModelServer.Settings settings = ModelServer.Settings.defaults().withPort(0).withMaxConcurrentRequests(3);
        try (ModelServer server = ModelServer.start(settings, store)) {
            List<SlowClient> slowClients = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                slowClients.add(SlowClient.send(server.port()));
            }
            await(server::requestsInProgress, 3);

            SlowClient.Outcome refused = SlowClient.send(server.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .outcome(ANSWER_WITHIN);

            assertThat(refused.cutOff()).as(refused.toString()).isTrue();
            assertThat(refused.after()).isLessThan(ANSWER_WITHIN);
            for (SlowClient slow : slowClients) {
                slow.socket.close();
            }
            await(server::requestsInProgress, 0);
            HttpResponse<String> metrics = answered(URI.create("http://127.0.0.1:" + server.port()), "/metrics", null,
                    ANSWER_WITHIN);
            assertThat(metrics.body()).contains("streambelief_http_requests_refused_total 1.0");
        }
    }

    @Test
    void theRequestTimeoutIsWholeSecondsAndOnePerJvm() throws Exception {
        assertThatThrownBy(() -> ModelServer.Settings.defaults().withRequestTimeout(Duration.ofMillis(1500)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number of seconds");
        try (ModelServer first = ModelServer.start(ModelServer.Settings.defaults().withPort(0), store)) {
            Duration other = ModelServer.Settings.defaults().requestTimeout().plusSeconds(1);

            assertThatThrownBy(() -> ModelServer.start(ModelServer.Settings.defaults().withPort(0)
                    .withRequestTimeout(other), store))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("one request timeout per JVM");
        }
    }

    @Test
    void bothBoundsAreCommandLineOptions() {
        ModelServer.ServeCommand defaults = new ModelServer.ServeCommand();
        ModelServer.commandLine(defaults).parseArgs("--bootstrap-servers", "127.0.0.1:9092");
        ModelServer.ServeCommand given = new ModelServer.ServeCommand();
        ModelServer.commandLine(given).parseArgs("--bootstrap-servers", "127.0.0.1:9092", "--request-timeout", "30",
                "--max-concurrent-requests", "40");

        assertThat(defaults.settings().requestTimeout()).isEqualTo(ModelServer.Settings.defaults().requestTimeout());
        assertThat(defaults.settings().maxConcurrentRequests())
                .isEqualTo(ModelServer.Settings.defaults().maxConcurrentRequests());
        assertThat(given.settings().requestTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(given.settings().maxConcurrentRequests()).isEqualTo(40);
    }

    /** Sends a request (a slow client's: headers and a few bytes of the body) and then nothing. */
    private record SlowClient(Socket socket, long sentAt) {
        private static final String BODY_START = PREDICTION.substring(0, 5);

        static SlowClient send(int port) throws IOException {
            return send(port, "POST /v1/models/m:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + PREDICTION.length() + "\r\n\r\n" + BODY_START);
        }

        static SlowClient send(int port, String request) throws IOException {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new SlowClient(socket, System.nanoTime());
        }

        /** How long the server held the request before it answered 408 or closed the connection. */
        Duration awaitCutOff(Duration atMost) throws IOException {
            Outcome outcome = outcome(atMost);
            if (!outcome.cutOff()) {
                fail("a slow client was not cut off: " + outcome);
            }
            return outcome.after();
        }

        /** What the server did within {@code atMost} of the request, counted from when it was sent. */
        Outcome outcome(Duration atMost) throws IOException {
            long left = sentAt + atMost.toNanos() - System.nanoTime();
            try (socket) {
                socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                InputStream in = socket.getInputStream();
                String answer = new String(in.readNBytes("HTTP/1.1 408".length()), StandardCharsets.US_ASCII);
                return new Outcome(answer.isEmpty() || answer.equals("HTTP/1.1 408"), "answered '" + answer + "'",
                        since(sentAt));
            } catch (SocketTimeoutException e) {
                return new Outcome(false, "no answer", since(sentAt));
            } catch (SocketException e) {
                return new Outcome(true, "connection reset", since(sentAt));
            }
        }

        /** Cut off: answered 408 or closed. */
        record Outcome(boolean cutOff, String what, Duration after) {
        }
    }

    private HttpResponse<String> answered(URI base, String path, String body, Duration within) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(within);
        if (body != null) {
            request.POST(HttpRequest.BodyPublishers.ofString(body));
        }
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
            return response;
        } catch (HttpTimeoutException e) {
            throw new AssertionError(path + " was not answered within " + within + " (waited " + since(start) + ")", e);
        }
    }

    private static void await(IntSupplier value, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.getAsInt() != expected) {
            if (System.nanoTime() - deadline > 0) {
                fail("waited 10 s for " + expected + ", still " + value.getAsInt());
            }
            Thread.sleep(10);
        }
    }

    private static Duration since(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }

}
