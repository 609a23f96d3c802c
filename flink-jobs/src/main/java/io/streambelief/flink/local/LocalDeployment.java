package io.streambelief.flink.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.TrainingConfig;
import io.streambelief.flink.TrainingJob;
import io.streambelief.kafka.broker.KafkaBroker;
import io.streambelief.kafka.topic.ModelDefinitions;
import io.streambelief.kafka.topic.Topics;

/**
 * The whole system on one machine, as {@code ./run-local} and the end-to-end tests run it: a
 * real Kafka broker (child JVM), the topics, the model server (child JVM), and the training job
 * on a Flink MiniCluster with the RocksDB state backend, checkpoints and the Web UI.
 *
 * <p>Everything it writes lives under one work directory: broker data, checkpoints, RocksDB
 * files, logs.
 */
public final class LocalDeployment implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalDeployment.class);

    private final TrainingConfig config;
    private final KafkaBroker broker;
    private final ServingProcess serving;
    private final MiniCluster flink;
    private final JobID jobId;
    private final URI webUi;

    private LocalDeployment(TrainingConfig config, KafkaBroker broker, ServingProcess serving, MiniCluster flink,
            JobID jobId, URI webUi) {
        this.config = config;
        this.broker = broker;
        this.serving = serving;
        this.flink = flink;
        this.jobId = jobId;
        this.webUi = webUi;
    }

    /**
     * Where things go and which ports they use; port 0 picks a free one.
     *
     * @param workDir directory for all data and logs of this deployment
     * @param servingPort port of the model server (8501 by default)
     * @param webUiPort port of Flink's Web UI and REST API (8081 by default)
     */
    public record Settings(Path workDir, int servingPort, int webUiPort) {
        public static Settings forTests(Path workDir) {
            return new Settings(workDir, 0, 0);
        }
    }

    /**
     * Starts everything and submits the job; returns once the job runs.
     *
     * @param configFor the job's configuration, given the broker's bootstrap address
     */
    public static LocalDeployment start(Settings settings, Function<String, TrainingConfig> configFor)
            throws Exception {
        Path work = settings.workDir().toAbsolutePath().normalize();
        Files.createDirectories(work.resolve("logs"));
        KafkaBroker broker = KafkaBroker.builder(work.resolve("kafka")).start();
        ServingProcess serving = null;
        MiniCluster flink = null;
        try {
            TrainingConfig config = configFor.apply(broker.bootstrapServers());
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers()))) {
                Topics.ensure(admin, config.topics(), config.workers());
            }
            ModelDefinitions.publish(broker.bootstrapServers(), config.topics().modelParams(), config.definition());
            serving = ServingProcess.start(broker.bootstrapServers(), config.topics().modelParams(),
                    portOrFree(settings.servingPort()), work.resolve("logs/serving.log"));

            Configuration flinkConf = flinkConfiguration(work, settings.webUiPort());
            flink = new MiniCluster(new MiniClusterConfiguration.Builder()
                    .setConfiguration(flinkConf)
                    .setNumTaskManagers(1)
                    .setNumSlotsPerTaskManager(Math.max(config.workers(), config.parameterServers()))
                    .build());
            flink.start();
            StreamExecutionEnvironment env = new StreamExecutionEnvironment(flinkConf);
            TrainingJob.build(env, config);
            JobID jobId = flink.submitJob(env.getStreamGraph()).get(60, TimeUnit.SECONDS).getJobID();
            URI webUi = flink.getRestAddress().get(10, TimeUnit.SECONDS);
            LocalDeployment deployment = new LocalDeployment(config, broker, serving, flink, jobId, webUi);
            deployment.awaitRunning(Duration.ofSeconds(60));
            return deployment;
        } catch (Exception | Error e) {
            if (flink != null) {
                flink.close();
            }
            if (serving != null) {
                serving.close();
            }
            broker.close();
            throw e;
        }
    }

    private static Configuration flinkConfiguration(Path work, int webUiPort) {
        Configuration conf = new Configuration();
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.port", Integer.toString(portOrFree(webUiPort)));
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("execution.checkpointing.dir", work.resolve("checkpoints").toUri().toString());
        conf.setString("state.backend.rocksdb.localdir", work.resolve("rocksdb").toString());
        conf.setString("io.tmp.dirs", work.resolve("tmp").toString());
        conf.setString("taskmanager.memory.managed.size", "256m");
        return conf;
    }

    private static int portOrFree(int port) {
        if (port != 0) {
            return port;
        }
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitRunning(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JobStatus status = jobStatus();
            if (status == JobStatus.RUNNING) {
                return;
            }
            if (status.isGloballyTerminalState()) {
                throw new IllegalStateException("The training job ended during start-up: " + status
                        + "; see the Flink log");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("The training job did not start within " + timeout.toSeconds()
                        + " s (status " + status + ")");
            }
            Thread.sleep(100);
        }
    }

    public JobStatus jobStatus() throws Exception {
        return flink.getJobStatus(jobId).get(10, TimeUnit.SECONDS);
    }

    public TrainingConfig config() {
        return config;
    }

    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    public KafkaBroker broker() {
        return broker;
    }

    public URI servingUri() {
        return serving.uri();
    }

    public URI webUi() {
        return webUi;
    }

    public JobID jobId() {
        return jobId;
    }

    /** Cancels the job and stops the MiniCluster, the model server and the broker, in that order. */
    @Override
    public void close() {
        try {
            if (!jobStatus().isGloballyTerminalState()) {
                flink.cancelJob(jobId).get(30, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("Cancelling the training job failed: {}", e.toString());
        }
        try {
            flink.close();
        } catch (Exception e) {
            LOG.warn("Stopping Flink failed: {}", e.toString());
        }
        serving.close();
        broker.close();
    }
}
