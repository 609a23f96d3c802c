package io.streambelief.benchmarks;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.launcher.local.LocalDeployment;

/**
 * Samples a running sparse job's row lag — a row gradient's creation to its row's publication —
 * from the embedding shards' {@code rowLagMs} histograms (each over its last 10,000
 * publications) through Flink's REST API. Over a run: the median of the sampled p50s and the
 * largest sampled p99, the largest over the shards each time.
 */
final class RowLagSampler {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final LocalDeployment deployment;
    private final List<Double> p50s = new ArrayList<>();
    private double p99 = Double.NaN;

    RowLagSampler(LocalDeployment deployment) {
        this.deployment = deployment;
    }

    /** Takes one sample; a job that does not answer (yet) gives none. */
    void sample() {
        try {
            URI rest = deployment.webUi();
            String job = "/jobs/" + deployment.jobId();
            for (JsonNode vertex : get(rest, job).path("vertices")) {
                if (!vertex.path("name").asText().startsWith("embedding-shard")) {
                    continue;
                }
                double sampleP50 = Double.NaN;
                for (JsonNode metric : get(rest, job + "/vertices/" + vertex.path("id").asText()
                        + "/subtasks/metrics?agg=max&get=embedding-shard.rowLagMs_median,embedding-shard.rowLagMs_p99")) {
                    double max = metric.path("max").asDouble(Double.NaN);
                    if (metric.path("id").asText().endsWith("_median")) {
                        sampleP50 = max;
                    } else if (!Double.isNaN(max)) {
                        p99 = Double.isNaN(p99) ? max : Math.max(p99, max);
                    }
                }
                if (!Double.isNaN(sampleP50)) {
                    p50s.add(sampleP50);
                }
            }
        } catch (Exception e) {
            // no sample this time
        }
    }

    double p50() {
        return p50s.isEmpty() ? Double.NaN : p50s.stream().sorted().toList().get(p50s.size() / 2);
    }

    double p99() {
        return p99;
    }

    private static JsonNode get(URI rest, String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(rest.resolve(path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(response.body());
    }
}
