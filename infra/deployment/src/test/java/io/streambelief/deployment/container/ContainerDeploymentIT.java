package io.streambelief.deployment.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.common.JobID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.launcher.cluster.ClusterRestApi;
import io.streambelief.launcher.cluster.PublishedShards;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.processes.LoopbackPort;

/**
 * The system as a Docker user deploys it, from our images on a real engine: a broker container, a
 * Flink session cluster of a JobManager and two TaskManager containers, the job submitted with
 * {@code flink run} inside the JobManager's container, and a model-server container with its state
 * directory on a volume. A TaskManager container killed in the middle of training loses no example
 * and applies none twice; a new server container on the same volume, started while the broker is
 * down, answers at once with the model the old one held.
 *
 * <p>Every container runs with host networking (the engine here has no bridge network), each on
 * ports of its own.
 */
class ContainerDeploymentIT {
    private static final int EXAMPLES = 12_000;
    /** The TaskManager is killed once the model holds this many examples, after a checkpoint. */
    private static final int KILL_AT = 3_000;
    private static final String TOKEN = "container-test-token";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;

    @BeforeAll
    static void buildImages() throws Exception {
        LocalImages.build();
    }

    @AfterEach
    void stopContainers() {
        containers.forEach(GenericContainer::stop);
    }

    @Test
    void aJobSubmittedToContainersSurvivesALostTaskManagerAndANewServerAnswersFromTheVolumeWithoutTheBroker()
            throws Exception {
        ExampleSet train = FashionMnist.read().train().shuffled(5).take(EXAMPLES);
        int kafkaPort = LoopbackPort.free();
        String bootstrap = "127.0.0.1:" + kafkaPort;
        GenericContainer<?> broker = start(container(LocalImages.KAFKA, "kafka")
                .withEnv(Map.of("KAFKA_PORT", Integer.toString(kafkaPort),
                        "KAFKA_CONTROLLER_PORT", Integer.toString(LoopbackPort.free()),
                        "KAFKA_ADVERTISED_HOST", "127.0.0.1"))
                .waitingFor(readyWhen("the broker answers", () -> brokerAnswers(bootstrap))));

        // Checkpoints on a volume every Flink container mounts, as a shared file system or S3 would be.
        Path checkpoints = writableDirectory("checkpoints");
        int restPort = LoopbackPort.free();
        String flinkProperties = String.join("\n",
                "jobmanager.rpc.address: 127.0.0.1",
                "jobmanager.rpc.port: " + LoopbackPort.free(),
                "jobmanager.bind-host: 127.0.0.1",
                "rest.address: 127.0.0.1",
                "rest.bind-address: 127.0.0.1",
                "rest.port: " + restPort,
                "blob.server.port: " + LoopbackPort.free(),
                "taskmanager.host: 127.0.0.1",
                "taskmanager.bind-host: 127.0.0.1",
                "taskmanager.numberOfTaskSlots: 1",
                "taskmanager.memory.process.size: 1536m",
                "taskmanager.memory.managed.size: 256m",
                "taskmanager.load-balance.mode: slots",
                "state.backend.type: rocksdb",
                "execution.checkpointing.dir: file:///checkpoints",
                "restart-strategy.type: fixed-delay",
                "restart-strategy.fixed-delay.attempts: 100",
                "restart-strategy.fixed-delay.delay: 1 s",
                "heartbeat.interval: 1000",
                "heartbeat.timeout: 30000");
        ClusterRestApi rest = new ClusterRestApi(URI.create("http://127.0.0.1:" + restPort));
        GenericContainer<?> jobManager = start(flink("jobmanager", flinkProperties, checkpoints)
                .waitingFor(readyWhen("the JobManager's REST API answers", rest::isUp)));
        List<GenericContainer<?>> taskManagers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            taskManagers.add(start(flink("taskmanager", flinkProperties, checkpoints)));
        }
        await("two TaskManagers registered", Duration.ofMinutes(2), () -> taskManagersRegistered(rest, 2));

        // As a user would: flink run in the JobManager's container, the jar the image holds.
        ExecResult submitted = jobManager.execInContainer("flink", "run", "-d", "-m", "127.0.0.1:" + restPort,
                "/opt/flink/usrlib/streambelief-job.jar", "--bootstrap-servers", bootstrap, "--workers", "2",
                "--seed", "5", "--checkpoint-interval", "1s");
        assertThat(submitted.getExitCode()).as("flink run: %s%s", submitted.getStdout(), submitted.getStderr())
                .isZero();
        Matcher id = Pattern.compile("JobID ([0-9a-f]{32})").matcher(submitted.getStdout());
        assertThat(id.find()).as("flink run printed the job id: %s", submitted.getStdout()).isTrue();
        JobID job = JobID.fromHexString(id.group(1));
        // The job's own view of the same options, for its topics and shards.
        TrainingConfig config = TrainingJobCommand.configOf("--bootstrap-servers", bootstrap, "--workers", "2",
                "--seed", "5", "--checkpoint-interval", "1s");
        await("the job running", Duration.ofMinutes(2), () -> "RUNNING".equals(status(rest, job)));

        int httpPort = LoopbackPort.free();
        Path servingState = writableDirectory("serving-state");
        GenericContainer<?> server = start(modelServer(bootstrap, httpPort, servingState));
        try (ExampleFeeder feeder = new ExampleFeeder(bootstrap, config.topics().examples(), ExampleFormat.BINARY)) {
            feeder.feed(train.examples(), 1, n -> {});
        }
        try (PublishedShards shards = new PublishedShards(bootstrap, config.topics().modelParams(), config.modelId(),
                config.layout().shardCount())) {
            await(KILL_AT + " examples trained and a checkpoint completed", Duration.ofMinutes(3),
                    () -> shards.poll(Duration.ofMillis(200)).minApplied() >= KILL_AT
                            && checkpointsCompleted(rest, job) >= 1);
            long appliedAtKill = shards.progress().minApplied();
            GenericContainer<?> victim = taskManagers.get(0);
            victim.getDockerClient().killContainerCmd(victim.getContainerId()).exec();
            // What a Kubernetes Deployment does: a new TaskManager in place of the lost one.
            taskManagers.add(start(flink("taskmanager", flinkProperties, checkpoints)));
            await("all " + EXAMPLES + " examples trained after the restore", Duration.ofMinutes(5),
                    () -> shards.poll(Duration.ofMillis(500)).minApplied() >= EXAMPLES);
            assertThat(appliedAtKill).as("killed in the middle of training").isLessThan(EXAMPLES);
            assertThat(rest.failures(job)).as("the job failed when it lost the TaskManager").isNotEmpty();
            assertThat(rest.checkpoints(job).restored()).as("and restored from a checkpoint").isGreaterThanOrEqualTo(1);
            shards.catchUp();
            Map<Integer, ParamUpdate> latest = shards.latest();
            assertThat(latest).hasSize(config.layout().shardCount());
            assertThat(latest.values()).allSatisfy(shard -> assertThat(shard.examplesApplied())
                    .as("examples in shard %d: none lost, none twice", shard.shardId()).isEqualTo(EXAMPLES));
        }
        assertThat(taskManagers.get(1).isRunning()).as("the other TaskManager kept running").isTrue();

        String model = "/v1/models/" + config.modelId();
        await("the server holds every example", Duration.ofMinutes(1),
                () -> examplesServed(httpPort, model) == EXAMPLES);
        assertThat(code(httpPort, model, null)).as("the token is required").isEqualTo(401);
        String version = status(httpPort, model).path("model_version_status").path(0).path("version").asText();

        // A new server container on the same volume, as a rescheduled pod on its persistent volume;
        // with the broker gone, whatever it answers comes from the volume.
        broker.stop();
        server.stop();
        long restarted = System.nanoTime();
        start(modelServer(bootstrap, httpPort, servingState));
        await("the new server answers", Duration.ofMinutes(1), () -> code(httpPort, model, TOKEN) == 200);
        System.out.printf("The new server container answered %d ms after it started, without a broker%n",
                (System.nanoTime() - restarted) / 1_000_000);
        assertThat(examplesServed(httpPort, model)).as("examples of the model served after the restart")
                .isEqualTo(EXAMPLES);
        assertThat(status(httpPort, model).path("model_version_status").path(0).path("version").asText())
                .isEqualTo(version);
        HttpResponse<String> prediction = post(httpPort, model + ":predict",
                "{\"instances\": [" + pixels(train) + "]}");
        assertThat(prediction.statusCode()).as("predict: %s", prediction.body()).isEqualTo(200);
        assertThat(JSON.readTree(prediction.body()).path("predictions").path(0).size()).isEqualTo(FashionMnist.CLASSES);
    }

    private static GenericContainer<?> modelServer(String bootstrap, int httpPort, Path state) {
        return container(LocalImages.MODEL_SERVER, "model-server")
                .withEnv("STREAMBELIEF_AUTH_TOKEN", TOKEN)
                .withFileSystemBind(state.toString(), "/var/lib/streambelief")
                .withCommand("--bootstrap-servers", bootstrap, "--port", Integer.toString(httpPort),
                        "--grpc-port", Integer.toString(LoopbackPort.free()))
                .waitingFor(readyWhen("the server answers", () -> code(httpPort, "/healthz", null) > 0));
    }

    private GenericContainer<?> flink(String role, String properties, Path checkpoints) {
        return container(LocalImages.FLINK_JOB, role)
                .withEnv("FLINK_PROPERTIES", properties)
                .withFileSystemBind(checkpoints.toString(), "/checkpoints")
                .withCommand(role);
    }

    private static GenericContainer<?> container(String image, String name) {
        return new GenericContainer<>(DockerImageName.parse(image))
                .withNetworkMode("host")
                .withCreateContainerCmdModifier(cmd -> cmd.withName(name + "-" + Long.toHexString(System.nanoTime())))
                .waitingFor(readyWhen("it runs", () -> true));
    }

    private GenericContainer<?> start(GenericContainer<?> container) {
        containers.add(container);
        container.start();
        return container;
    }

    private Path writableDirectory(String name) throws Exception {
        // The images' users (flink 9999, streambelief 10001) are not this test's user.
        Path dir = Files.createDirectories(work.resolve(name));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    private static boolean brokerAnswers(String bootstrap) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000"))) {
            admin.listTopics().names().get();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean taskManagersRegistered(ClusterRestApi rest, int count) {
        try {
            return rest.taskManagers() >= count;
        } catch (Exception e) {
            return false;
        }
    }

    private static String status(ClusterRestApi rest, JobID job) {
        try {
            return rest.jobStatus(job);
        } catch (Exception e) {
            return "unknown: " + e;
        }
    }

    private static long checkpointsCompleted(ClusterRestApi rest, JobID job) {
        try {
            return rest.checkpoints(job).completed();
        } catch (Exception e) {
            return 0;
        }
    }

    private long examplesServed(int port, String model) {
        try {
            return status(port, model).path("examples_trained").asLong(-1);
        } catch (Exception e) {
            return -1;
        }
    }

    private JsonNode status(int port, String model) throws Exception {
        HttpResponse<String> response = HTTP.send(request(port, model, TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? JSON.readTree(response.body()) : JSON.createObjectNode();
    }

    /** The status code of a GET, or -1 while nothing answers. */
    private static int code(int port, String path, String token) {
        try {
            return HTTP.send(request(port, path, token).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static HttpRequest.Builder request(int port, String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }

    private HttpResponse<String> post(int port, String path, String body) throws Exception {
        return HTTP.send(request(port, path, TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String pixels(ExampleSet examples) {
        float[] features = examples.examples().get(0).features();
        StringBuilder row = new StringBuilder("[");
        for (int i = 0; i < features.length; i++) {
            row.append(i == 0 ? "" : ",").append(features[i]);
        }
        return row.append(']').toString();
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("%s within %d s", what, timeout.toSeconds()).isLessThan(deadline);
            Thread.sleep(250);
        }
    }

    /** A container is started once this holds (polled; host networking leaves no mapped port to wait for). */
    private static AbstractWaitStrategy readyWhen(String what, BooleanSupplier ready) {
        return new AbstractWaitStrategy() {
            @Override
            protected void waitUntilReady() {
                long deadline = System.nanoTime() + startupTimeout.toNanos();
                while (!ready.getAsBoolean()) {
                    if (!waitStrategyTarget.isRunning()) {
                        throw new IllegalStateException("The container ended before " + what + ":\n"
                                + waitStrategyTarget.getLogs());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("Not ready within " + startupTimeout.toSeconds() + " s: " + what);
                    }
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
            }
        };
    }
}
