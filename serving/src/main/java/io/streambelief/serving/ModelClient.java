package io.streambelief.serving;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.model.Example;

/**
 * A Java client of one served model's REST resource, for programs and tests that ask the model
 * server what it serves and what it predicts.
 */
public final class ModelClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int REQUEST_ROWS = 500;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI resource;

    /** @param server e.g. {@code http://127.0.0.1:8501} */
    public ModelClient(URI server, String model) {
        this.resource = server.resolve(ModelsRouter.PREFIX + model);
    }

    /** What {@code GET /v1/models/{name}} says. */
    public record Status(long modelVersion, long examplesTrained, long ageMillis, String servedParameters) {}

    /** The model's status, or empty while the server does not (yet) serve it. */
    public Optional<Status> status() throws IOException, InterruptedException {
        HttpResponse<String> response = send(HttpRequest.newBuilder(resource).timeout(Duration.ofSeconds(10)).build());
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        JsonNode status = check(response);
        return Optional.of(new Status(status.path("model_version").asLong(), status.path("examples_trained").asLong(),
                status.path("age_ms").asLong(), status.path("served_parameters").asText()));
    }

    /**
     * Waits until the served parameters include {@code examples} examples.
     *
     * @throws IllegalStateException if they do not within {@code timeout}, or ever exceed {@code examples}
     */
    public Status awaitExamplesTrained(long examples, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<Status> status = Optional.empty();
        while (System.nanoTime() < deadline) {
            try {
                status = status();
            } catch (IOException e) {
                status = Optional.empty();
            }
            if (status.isPresent() && status.get().examplesTrained() > examples) {
                throw new IllegalStateException("The served model includes " + status.get().examplesTrained()
                        + " examples, more than the " + examples + " expected");
            }
            if (status.isPresent() && status.get().examplesTrained() == examples) {
                return status.get();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("The served model did not include all " + examples + " examples within "
                + timeout + "; last status: " + status.map(Status::toString).orElse("none"));
    }

    /**
     * Class probabilities for each row, from the parameter set named by {@code label} ({@code average}
     * or {@code latest}), or the server's default for {@code null}.
     */
    public float[][] predict(List<float[]> rows, String label) throws IOException, InterruptedException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (JsonGenerator json = JSON.getFactory().createGenerator(body)) {
            json.writeStartObject();
            json.writeArrayFieldStart("instances");
            for (float[] row : rows) {
                json.writeStartArray();
                for (float value : row) {
                    json.writeNumber(value);
                }
                json.writeEndArray();
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        URI target = URI.create(resource + (label == null ? "" : "/labels/" + label) + ":predict");
        HttpResponse<String> response = send(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build());
        JsonNode predictions = check(response).path("predictions");
        float[][] result = new float[predictions.size()][];
        for (int i = 0; i < result.length; i++) {
            JsonNode row = predictions.get(i);
            result[i] = new float[row.size()];
            for (int c = 0; c < row.size(); c++) {
                result[i][c] = (float) row.get(c).asDouble();
            }
        }
        return result;
    }

    /**
     * Sends an idempotent request (a status or a prediction), once more on a fresh connection if
     * the first failed in transit: a kept-alive connection that the server closed as idle while
     * the request was on its way answers with no bytes at all, and HTTP clients retry idempotent
     * requests then (RFC 9110, 9.2.2). The JDK client does so only for GET.
     */
    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.http.HttpTimeoutException e) {
            throw e;
        } catch (IOException e) {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Fraction of {@code examples} whose most probable class, as served, is their label. */
    public double accuracy(List<Example> examples, String label) throws IOException, InterruptedException {
        int correct = 0;
        for (int from = 0; from < examples.size(); from += REQUEST_ROWS) {
            List<Example> batch = examples.subList(from, Math.min(from + REQUEST_ROWS, examples.size()));
            float[][] predictions = predict(batch.stream().map(Example::features).toList(), label);
            for (int i = 0; i < batch.size(); i++) {
                if (predictedClass(predictions[i]) == batch.get(i).label()) {
                    correct++;
                }
            }
        }
        return (double) correct / examples.size();
    }

    private static int predictedClass(float[] probabilities) {
        if (probabilities.length == 1) {
            return probabilities[0] > 0.5f ? 1 : 0;
        }
        int best = 0;
        for (int c = 1; c < probabilities.length; c++) {
            if (probabilities[c] > probabilities[best]) {
                best = c;
            }
        }
        return best;
    }

    private static JsonNode check(HttpResponse<String> response) throws IOException {
        if (response.statusCode() != 200) {
            throw new IOException(response.request().method() + " " + response.uri() + " answered "
                    + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
