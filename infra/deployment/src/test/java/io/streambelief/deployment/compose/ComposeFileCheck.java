package io.streambelief.deployment.compose;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.serving.ModelServer;

/**
 * What {@code infra/docker/compose.yaml} must agree on with the images and the code, since no
 * Compose runs it here: the job's options, parsed by the job's own parser; the jar where the job
 * image puts it; the broker address the containers are told, the one the broker advertises to
 * them; the server's options, parsed by its own parser, and the ports it publishes; the Flink
 * settings; the server's volume where its image keeps its state.
 */
final class ComposeFileCheck {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern COPY_JAR = Pattern.compile("COPY .*streambelief-job\\.jar (\\S+)");
    private static final Pattern VOLUME = Pattern.compile("(?m)^VOLUME (\\S+)");

    private final String jobJar;
    private final String serverVolume;

    ComposeFileCheck(Path dockerDirectory) throws IOException {
        this.jobJar = find(COPY_JAR, dockerDirectory.resolve("flink-job/Dockerfile"));
        this.serverVolume = find(VOLUME, dockerDirectory.resolve("model-server/Dockerfile"));
    }

    /** What is wrong with this compose file; empty when nothing is. */
    List<String> problemsIn(JsonNode compose) {
        List<String> problems = new ArrayList<>();
        JsonNode services = compose.path("services");
        for (String name : List.of("kafka", "jobmanager", "taskmanager", "submit", "model-server")) {
            if (!services.has(name)) {
                problems.add("no service " + name);
            }
        }
        if (!problems.isEmpty()) {
            return problems;
        }
        String brokerForContainers = advertisedPlaintext(services.path("kafka"), problems);

        List<String> submit = Arrays.asList(services.path("submit").path("command").asText().trim().split("\\s+"));
        int jar = submit.indexOf(jobJar);
        if (!submit.subList(0, Math.min(2, submit.size())).equals(List.of("flink", "run")) || jar < 0) {
            problems.add("submit: expected flink run ... " + jobJar + " (where the job image has the jar), got " + submit);
        } else {
            try {
                TrainingConfig job = TrainingJobCommand.configOf(submit.subList(jar + 1, submit.size()).toArray(String[]::new));
                if (!job.bootstrapServers().equals(brokerForContainers)) {
                    problems.add("submit: the job reads Kafka at " + job.bootstrapServers()
                            + ", the broker tells containers " + brokerForContainers);
                }
            } catch (RuntimeException e) {
                problems.add("submit: the job's options do not parse: " + e.getMessage());
            }
        }

        JsonNode server = services.path("model-server");
        try {
            List<String> args = new ArrayList<>();
            server.path("command").forEach(arg -> args.add(arg.asText()));
            ModelServer.Arguments parsed = ModelServer.argumentsOf(args.toArray(String[]::new));
            if (!parsed.bootstrapServers().equals(brokerForContainers)) {
                problems.add("model-server: reads Kafka at " + parsed.bootstrapServers() + ", the broker tells containers "
                        + brokerForContainers);
            }
            List<String> ports = new ArrayList<>();
            server.path("ports").forEach(port -> ports.add(port.asText()));
            for (int port : new int[] {parsed.settings().port(), parsed.settings().grpcPort()}) {
                if (ports.stream().noneMatch(published -> published.endsWith(":" + port))) {
                    problems.add("model-server: listens on " + port + ", which is not published (" + ports + ")");
                }
            }
        } catch (RuntimeException e) {
            problems.add("model-server: the server's options do not parse: " + e.getMessage());
        }
        List<String> volumes = new ArrayList<>();
        server.path("volumes").forEach(volume -> volumes.add(volume.asText()));
        if (volumes.stream().noneMatch(volume -> volume.endsWith(":" + serverVolume))) {
            problems.add("model-server: no volume on " + serverVolume + ", where the image keeps the server's state");
        }

        problems.addAll(flinkProblems(compose.path("x-flink")));
        return problems;
    }

    private static String advertisedPlaintext(JsonNode kafka, List<String> problems) {
        String advertised = kafka.path("environment").path("KAFKA_ADVERTISED_LISTENERS").asText();
        Matcher plaintext = Pattern.compile("PLAINTEXT://([^,]+)").matcher(advertised);
        if (!plaintext.find()) {
            problems.add("kafka: no PLAINTEXT listener advertised to the containers (" + advertised + ")");
            return "";
        }
        return plaintext.group(1);
    }

    private static List<String> flinkProblems(JsonNode flink) {
        List<String> problems = new ArrayList<>();
        Map<?, ?> properties;
        try {
            properties = YAML.readValue(flink.path("environment").path("FLINK_PROPERTIES").asText(), Map.class);
        } catch (IOException e) {
            return List.of("FLINK_PROPERTIES: not YAML: " + e.getMessage());
        }
        if (!"rocksdb".equals(String.valueOf(properties.get("state.backend.type")))) {
            problems.add("FLINK_PROPERTIES: state.backend.type is not rocksdb");
        }
        List<String> mounts = new ArrayList<>();
        flink.path("volumes").forEach(volume -> mounts.add(volume.asText().substring(volume.asText().indexOf(':') + 1)));
        for (String key : List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir")) {
            String dir = String.valueOf(properties.get(key));
            if (mounts.stream().noneMatch(mount -> dir.startsWith("file://" + mount + "/"))) {
                problems.add("FLINK_PROPERTIES: " + key + " " + dir + " is not on a volume every Flink container mounts "
                        + mounts);
            }
        }
        return problems;
    }

    private static String find(Pattern pattern, Path file) throws IOException {
        Matcher matcher = pattern.matcher(Files.readString(file));
        if (!matcher.find()) {
            throw new IllegalStateException(file + " has no line matching " + pattern);
        }
        return matcher.group(1);
    }
}
