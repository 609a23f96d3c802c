package io.streambelief.launcher.local;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.launcher.cluster.ClusterRestApi;

/**
 * Prints one line of progress on demand: examples trained and their rate, progressive loss and
 * accuracy (from the training-metrics topic), the served model's version, the examples it
 * includes and its age (from the model server), the parameter servers' staleness, a sparse
 * model's row lag and completed checkpoints (from Flink's REST API), and dead letters (the
 * dead-letter topic's size). Each source is asked independently, so one that does not answer
 * shows as "?" and never stops the others.
 */
final class ProgressReporter implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LocalDeployment deployment;
    private final PrintStream out;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition metricsPartition;
    private final TopicPartition deadLetterPartition;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final long startNanos = System.nanoTime();
    private final Map<Integer, Long> examplesPerWorker = new HashMap<>();
    private long lastTotal;
    /** Flink's REST API; a new one when the deployment restarts Flink elsewhere. */
    private ClusterRestApi rest;
    private long lastNanos = startNanos;

    ProgressReporter(LocalDeployment deployment, PrintStream out) {
        this.deployment = deployment;
        this.out = out;
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, deployment.bootstrapServers());
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.metricsPartition = new TopicPartition(deployment.config().topics().trainingMetrics(), 0);
        this.deadLetterPartition = new TopicPartition(deployment.config().topics().deadLetter(), 0);
        consumer.assign(List.of(metricsPartition));
        consumer.seekToBeginning(List.of(metricsPartition));
    }

    /** Everything reported since the last line: one poll returns one fetch, which may be less. */
    private List<ConsumerRecord<byte[], byte[]>> drainMetrics() {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        Duration wait = Duration.ofMillis(200);
        for (int polls = 0; polls < 50; polls++) {
            int before = records.size();
            consumer.poll(wait).forEach(records::add);
            if (records.size() == before) {
                break;
            }
            wait = Duration.ofMillis(20);
        }
        return records;
    }

    /** Each worker's progressive AUC since it started (sparse models). */
    private final Map<Integer, Double> aucPerWorker = new HashMap<>();
    /** Each worker's bytes pushed and received since it started. */
    private final Map<Integer, long[]> trafficPerWorker = new HashMap<>();
    /** Each worker's compression residual norm, as last reported. */
    private final Map<Integer, Double> residualPerWorker = new HashMap<>();

    void report() {
        double windowLoss = 0;
        double windowCorrect = 0;
        long windowExamples = 0;
        for (ConsumerRecord<byte[], byte[]> record : drainMetrics()) {
            try {
                TrainingMetrics m = TrainingMetrics.fromJson(record.value());
                if (!m.model().equals(deployment.config().modelId())) {
                    continue;
                }
                examplesPerWorker.put(m.worker(), m.examples());
                windowExamples += m.windowExamples();
                windowLoss += m.loss() * m.windowExamples();
                windowCorrect += m.accuracy() * m.windowExamples();
                if (m.auc() != null) {
                    aucPerWorker.put(m.worker(), m.auc());
                }
                if (m.bytesPushed() != null) {
                    trafficPerWorker.put(m.worker(), new long[] {m.bytesPushed(), m.bytesReceived()});
                }
                if (m.residualNorm() != null) {
                    residualPerWorker.put(m.worker(), m.residualNorm());
                }
            } catch (IllegalArgumentException foreign) {
                // not a metrics line of ours
            }
        }
        long total = examplesPerWorker.values().stream().mapToLong(Long::longValue).sum();
        long now = System.nanoTime();
        double rate = (total - lastTotal) / ((now - lastNanos) / 1e9);
        lastTotal = total;
        lastNanos = now;

        StringBuilder line = new StringBuilder();
        long seconds = (now - startNanos) / 1_000_000_000L;
        line.append(String.format(Locale.ROOT, "[%3d:%02d] trained %,d (%,.0f/s)", seconds / 60, seconds % 60, total,
                rate));
        if (windowExamples > 0) {
            line.append(String.format(Locale.ROOT, " | loss %.3f acc %.1f%%", windowLoss / windowExamples,
                    100 * windowCorrect / windowExamples));
        }
        if (!aucPerWorker.isEmpty()) {
            line.append(String.format(Locale.ROOT, " auc %.3f", aucPerWorker.values().stream()
                    .mapToDouble(Double::doubleValue).average().orElse(Double.NaN)));
        }
        if (total > 0 && !trafficPerWorker.isEmpty()) {
            long pushed = trafficPerWorker.values().stream().mapToLong(t -> t[0]).sum();
            long received = trafficPerWorker.values().stream().mapToLong(t -> t[1]).sum();
            line.append(String.format(Locale.ROOT, " | %,.0f B/ex up, %,.0f down", (double) pushed / total,
                    (double) received / total));
            if (!residualPerWorker.isEmpty()) {
                line.append(String.format(Locale.ROOT, ", residual %.2f", residualPerWorker.values().stream()
                        .mapToDouble(Double::doubleValue).max().orElse(0)));
            }
        }
        line.append(" | ").append(served());
        line.append(" | staleness ").append(staleness());
        if (deployment.config().isSparse()) {
            line.append(" | row lag ").append(rowLag());
        }
        line.append(" | checkpoints ").append(checkpoints());
        line.append(" | dead letters ").append(deadLetters());
        out.println(line);
    }

    private String served() {
        JsonNode model = getJson(deployment.servingUri().resolve("/v1/models/" + deployment.config().modelId()));
        if (model == null || !model.has("model_version")) {
            return "served ?";
        }
        return String.format(Locale.ROOT, "served %,d ex (%.1f s old)", model.path("examples_trained").asLong(),
                model.path("age_ms").asLong() / 1000.0);
    }

    /**
     * Mean and largest p99 over the parameter servers of their staleness histograms (the version
     * lag of the last 10,000 gradients each applied), from Flink's REST API.
     */
    private String staleness() {
        List<Map<String, Double>> subtasks;
        try {
            subtasks = rest().subtaskMetrics(deployment.jobId(), "parameter-server", "parameter-server.staleness_mean",
                    "parameter-server.staleness_p99", "parameter-server.gradientsApplied");
        } catch (IOException e) {
            return "?";
        }
        if (subtasks.isEmpty()) {
            return "?";
        }
        double weightedMean = 0;
        long gradients = 0;
        double p99 = Double.NaN;
        for (Map<String, Double> values : subtasks) {
            // Weighted by all gradients applied, a fair stand-in for the histogram's own count.
            double count = values.getOrDefault("parameter-server.gradientsApplied", 0.0);
            double mean = values.getOrDefault("parameter-server.staleness_mean", Double.NaN);
            if (count > 0 && !Double.isNaN(mean)) {
                weightedMean += mean * count;
                gradients += (long) count;
                double subtaskP99 = values.getOrDefault("parameter-server.staleness_p99", Double.NaN);
                p99 = Double.isNaN(p99) ? subtaskP99 : Math.max(p99, subtaskP99);
            }
        }
        return gradients == 0 ? "-" : String.format(Locale.ROOT, "%.1f (p99 %.0f)", weightedMean / gradients, p99);
    }

    /** A sparse model's row lag ({@link RowLag}). */
    private String rowLag() {
        RowLag lag;
        try {
            lag = RowLag.of(rest(), deployment.jobId());
        } catch (IOException e) {
            return "?";
        }
        return Double.isNaN(lag.medianMillis()) ? "-"
                : String.format(Locale.ROOT, "%.0f ms (p99 %.0f)", lag.medianMillis(), lag.p99Millis());
    }

    private ClusterRestApi rest() {
        if (rest == null || !rest.address().equals(deployment.webUi())) {
            rest = new ClusterRestApi(deployment.webUi(), Duration.ofSeconds(2));
        }
        return rest;
    }

    private String checkpoints() {
        JsonNode stats = getJson(deployment.webUi().resolve("/jobs/" + deployment.jobId() + "/checkpoints"));
        return stats == null ? "?" : Long.toString(stats.path("counts").path("completed").asLong());
    }

    private String deadLetters() {
        try {
            Long end = consumer.endOffsets(List.of(deadLetterPartition), Duration.ofSeconds(1)).get(deadLetterPartition);
            return end == null ? "?" : String.format(Locale.ROOT, "%,d", end);
        } catch (RuntimeException e) {
            return "?";
        }
    }

    private JsonNode getJson(URI uri) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
