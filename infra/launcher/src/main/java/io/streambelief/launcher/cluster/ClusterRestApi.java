package io.streambelief.launcher.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import org.apache.flink.api.common.JobID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The few calls of a Flink cluster's REST API (the Web UI's) that deploying and watching the
 * training job needs: the same requests {@code curl} or the Web UI would send, so a test through
 * it also shows that the job jar submits the way users submit it.
 */
public final class ClusterRestApi {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI address;
    private final Duration readTimeout;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public ClusterRestApi(URI address) {
        this(address, Duration.ofSeconds(10));
    }

    /** @param readTimeout how long a query (not a jar upload or a submission) may take */
    public ClusterRestApi(URI address, Duration readTimeout) {
        this.address = address;
        this.readTimeout = readTimeout;
    }

    public URI address() {
        return address;
    }

    /** Whether the REST endpoint answers (the JobManager is up). */
    public boolean isUp() {
        try {
            return send(HttpRequest.newBuilder(address.resolve("/overview")).timeout(Duration.ofSeconds(2)).build())
                    .statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** TaskManagers registered with the ResourceManager (a killed one stays until its heartbeat times out). */
    public int taskManagers() throws IOException {
        return get("/taskmanagers").path("taskmanagers").size();
    }

    /**
     * The TaskManagers (their resource ids) that run at least one subtask of the job now: the ones
     * whose loss makes the job fail and restore, as opposed to idle ones.
     */
    public Set<String> taskManagersRunning(JobID job) throws IOException {
        Set<String> ids = new TreeSet<>();
        for (JsonNode vertex : get("/jobs/" + job).path("vertices")) {
            String path = "/jobs/" + job + "/vertices/" + vertex.path("id").asText() + "/taskmanagers";
            for (JsonNode taskManager : get(path).path("taskmanagers")) {
                if (taskManager.path("status-counts").path("RUNNING").asInt() > 0) {
                    ids.add(taskManager.path("taskmanager-id").asText());
                }
            }
        }
        return ids;
    }

    /** Uploads a job jar ({@code POST /jars/upload}) and returns the id the cluster gave it. */
    public String uploadJar(Path jar) throws IOException {
        String boundary = "streambelief-" + UUID.randomUUID();
        String head = "--" + boundary + "\r\n"
                + "Content-Disposition: form-data; name=\"jarfile\"; filename=\"" + jar.getFileName() + "\"\r\n"
                + "Content-Type: application/x-java-archive\r\n\r\n";
        String tail = "\r\n--" + boundary + "--\r\n";
        HttpRequest request = HttpRequest.newBuilder(address.resolve("/jars/upload"))
                .timeout(Duration.ofMinutes(2))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofString(head),
                        HttpRequest.BodyPublishers.ofFile(jar), HttpRequest.BodyPublishers.ofString(tail)))
                .build();
        String stored = json(request).path("filename").asText();
        if (stored.isEmpty()) {
            throw new IOException("Uploading " + jar + " to " + address + " returned no file name");
        }
        // The cluster names an upload by the last segment of the path it stored it under.
        return Path.of(stored).getFileName().toString();
    }

    /**
     * Runs an uploaded jar's main class on the cluster ({@code POST /jars/<id>/run}), detached:
     * the main builds the job in the JobManager and returns once it is submitted.
     *
     * @param entryClass the main class, or null for the jar manifest's
     */
    public JobID runJar(String jarId, String entryClass, List<String> arguments) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        if (entryClass != null) {
            body.put("entryClass", entryClass);
        }
        arguments.forEach(body.putArray("programArgsList")::add);
        HttpRequest request = HttpRequest.newBuilder(address.resolve("/jars/" + jarId + "/run"))
                .timeout(Duration.ofMinutes(3))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        return JobID.fromHexString(json(request).path("jobid").asText());
    }

    /** The job's status name (RUNNING, RESTARTING, FAILED, ...). */
    public String jobStatus(JobID job) throws IOException {
        return get("/jobs/" + job).path("state").asText();
    }

    /** The failures in the job's exception history (each made it restart), oldest first: their messages. */
    public List<String> failures(JobID job) throws IOException {
        List<String> failures = new ArrayList<>();
        for (JsonNode entry : get("/jobs/" + job + "/exceptions").path("exceptionHistory").path("entries")) {
            failures.add(entry.path("exceptionName").asText() + ": " + entry.path("stacktrace").asText().lines()
                    .findFirst().orElse(""));
        }
        Collections.reverse(failures);
        return failures;
    }

    /** The job's checkpoint statistics: completed checkpoints, restores, and when the latest restore was. */
    public CheckpointStats checkpoints(JobID job) throws IOException {
        JsonNode stats = get("/jobs/" + job + "/checkpoints");
        return new CheckpointStats(stats.path("counts").path("completed").asLong(),
                stats.path("counts").path("restored").asLong(),
                stats.path("latest").path("restored").path("restore_timestamp").asLong(0));
    }

    /**
     * The named metrics (as the Web UI names them: {@code <operator>.<metric>}) of each subtask of
     * the job's vertex whose name starts with {@code vertexName} (a chain is named after its first
     * operator); empty if the job has no such vertex. A metric a subtask lacks is absent from its map.
     */
    public List<Map<String, Double>> subtaskMetrics(JobID job, String vertexName, String... metrics)
            throws IOException {
        String path = "/jobs/" + job;
        for (JsonNode vertex : get(path).path("vertices")) {
            if (vertex.path("name").asText().startsWith(vertexName)) {
                List<Map<String, Double>> subtasks = new ArrayList<>();
                for (int subtask = 0; subtask < vertex.path("parallelism").asInt(); subtask++) {
                    Map<String, Double> values = new HashMap<>();
                    get(path + "/vertices/" + vertex.path("id").asText() + "/subtasks/" + subtask + "/metrics?get="
                            + String.join(",", metrics)).forEach(
                                    m -> values.put(m.path("id").asText(), m.path("value").asDouble(Double.NaN)));
                    subtasks.add(values);
                }
                return subtasks;
            }
        }
        return List.of();
    }

    /** @param lastRestoreMillis wall-clock time of the latest restore from a checkpoint; 0 if none */
    public record CheckpointStats(long completed, long restored, long lastRestoreMillis) {}

    JsonNode get(String path) throws IOException {
        return json(HttpRequest.newBuilder(address.resolve(path)).timeout(readTimeout).build());
    }

    private JsonNode json(HttpRequest request) throws IOException {
        HttpResponse<String> response = send(request);
        if (response.statusCode() / 100 != 2) {
            throw new IOException(request.method() + " " + request.uri() + " answered " + response.statusCode() + ": "
                    + reasons(response.body()));
        }
        return JSON.readTree(response.body());
    }

    /**
     * Flink answers a failure with whole stack traces in {@code errors}; what went wrong is in the
     * first line and the innermost cause.
     */
    private static String reasons(String body) {
        List<String> reasons = new ArrayList<>();
        try {
            for (JsonNode error : JSON.readTree(body).path("errors")) {
                List<String> lines = error.asText().lines().toList();
                String innermost = lines.stream().filter(line -> line.startsWith("Caused by: ")).reduce((a, b) -> b)
                        .map(line -> " ... " + line).orElse("");
                reasons.add(lines.isEmpty() ? "" : lines.get(0) + innermost);
            }
        } catch (IOException notJson) {
            return body;
        }
        return reasons.isEmpty() ? body : String.join("; ", reasons);
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while calling " + request.uri(), e);
        }
    }
}
