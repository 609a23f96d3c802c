package io.streambelief.launcher.local;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.processes.ChildJvm;
import io.streambelief.processes.ProjectHome;

/**
 * The model server as the separate process it is in production: started from the serving
 * module's build output, in its own JVM with no Flink on its classpath.
 */
public final class ServingProcess implements AutoCloseable {
    static final String MAIN_CLASS = "io.streambelief.serving.ModelServer";

    private final ChildJvm jvm;
    private final URI uri;

    private ServingProcess(ChildJvm jvm, URI uri) {
        this.jvm = jvm;
        this.uri = uri;
    }

    /**
     * Starts the server on 127.0.0.1:{@code port} and waits until it answers.
     *
     * @param stateDir where the server keeps its local copy of the served models
     * @param options more of the server's options, after those set here
     */
    public static ServingProcess start(String bootstrapServers, TopicNames topics, int port, Path stateDir,
            Path logFile, List<String> options)
            throws IOException, InterruptedException {
        Path classpathFile = ProjectHome.buildOutput("serving/target/classpath.txt", "The model server's classpath");
        List<String> classpath = new ArrayList<>();
        classpath.add(classpathFile.getParent().resolve("classes").toString());
        classpath.addAll(List.of(Files.readString(classpathFile, StandardCharsets.UTF_8).strip()
                .split(java.io.File.pathSeparator)));
        List<String> arguments = new ArrayList<>(List.of("--bootstrap-servers", bootstrapServers,
                "--params-topic", topics.modelParams(), "--snapshots-topic", topics.modelSnapshots(),
                "--metrics-topic", topics.trainingMetrics(), "--embedding-rows-topic", topics.embeddingRows(),
                "--port", Integer.toString(port), "--state-dir", stateDir.toString()));
        arguments.addAll(options);
        ChildJvm jvm = ChildJvm.start("model-server", classpath, List.of("-Xmx1g", "-XX:+UseParallelGC"), MAIN_CLASS,
                arguments, Map.of("OMP_NUM_THREADS", "1"), logFile);
        ServingProcess serving = new ServingProcess(jvm, URI.create("http://127.0.0.1:" + port));
        try {
            serving.awaitHealthy(Duration.ofSeconds(90));
        } catch (IOException | RuntimeException e) {
            jvm.kill();
            throw e;
        }
        return serving;
    }

    private void awaitHealthy(Duration timeout) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest health = HttpRequest.newBuilder(uri.resolve("/healthz")).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (!jvm.isAlive()) {
                throw new IOException("The model server exited during start-up (log: " + jvm.logFile() + "):\n"
                        + jvm.logTail(30));
            }
            try {
                if (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("The model server did not answer within " + timeout.toSeconds() + " s (log: "
                        + jvm.logFile() + "):\n" + jvm.logTail(30));
            }
            Thread.sleep(200);
        }
    }

    public URI uri() {
        return uri;
    }

    public boolean isAlive() {
        return jvm.isAlive();
    }

    @Override
    public void close() {
        jvm.close();
    }
}
