package io.streambelief.launcher.local;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.TrainingJob;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.topic.ModelDefinitions;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.processes.LoopbackPort;
import io.streambelief.processes.broker.KafkaBroker;

/**
 * The whole system on one machine, as {@code ./run-local} and the end-to-end tests run it: a
 * real Kafka broker (child JVM), the topics, the model server (child JVM), and the training job
 * on a Flink MiniCluster with the RocksDB state backend, checkpoints and the Web UI.
 *
 * <p>Everything it writes lives under one work directory: broker data, checkpoints, savepoints,
 * RocksDB files, logs. For tests of fault tolerance, the broker can be restarted on its data
 * ({@link #restartBroker}) and the job stopped with a savepoint and run again from it with
 * another parallelism ({@link #stopWithSavepoint}, {@link #restoreJob}); broker and model server
 * outlive the job.
 */
public final class LocalDeployment implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalDeployment.class);

    private final Path work;
    private final Settings settings;
    private final ServingProcess serving;
    // Replaced by restartBroker and restoreJob; read by other threads (progress reporting).
    private volatile KafkaBroker broker;
    private volatile TrainingConfig config;
    private volatile MiniCluster flink;
    private volatile int slots;
    private volatile JobID jobId;
    private volatile URI webUi;

    private LocalDeployment(Path work, Settings settings, TrainingConfig config, KafkaBroker broker,
            ServingProcess serving, MiniCluster flink, int slots, JobID jobId, URI webUi) {
        this.work = work;
        this.settings = settings;
        this.config = config;
        this.broker = broker;
        this.serving = serving;
        this.flink = flink;
        this.slots = slots;
        this.jobId = jobId;
        this.webUi = webUi;
    }

    /**
     * Where things go and which ports they use; port 0 picks a free one.
     *
     * @param workDir directory for all data and logs of this deployment
     * @param servingPort port of the model server (8501 by default)
     * @param webUiPort port of Flink's Web UI and REST API (8081 by default)
     * @param serving whether to start the model server
     * @param servingOptions more options for the model server (batching, say), after those the
     *     deployment sets
     */
    public record Settings(Path workDir, int servingPort, int webUiPort, boolean serving, List<String> servingOptions) {
        public Settings {
            servingOptions = List.copyOf(servingOptions);
        }

        public Settings(Path workDir, int servingPort, int webUiPort) {
            this(workDir, servingPort, webUiPort, true, List.of());
        }

        /** Every port a free one: the model server's gRPC port too, which is 8500 unless told. */
        public static Settings forTests(Path workDir) {
            return new Settings(workDir, 0, 0, true, List.of("--grpc-port", "0"));
        }

        /** Without the model server: for measuring the training pipeline alone. */
        public Settings withoutServing() {
            return new Settings(workDir, servingPort, webUiPort, false, servingOptions);
        }

        /** The model server's extra options, instead of those set so far (the server takes each option once). */
        public Settings withServingOptions(List<String> options) {
            return new Settings(workDir, servingPort, webUiPort, serving, options);
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
                config.checkExamplePartitions(Topics.ensure(admin, config.topics(), config.workers()));
            }
            ModelDefinitions.publish(broker.bootstrapServers(), config.topics().modelParams(), config.definition());
            if (settings.serving()) {
                serving = ServingProcess.start(broker.bootstrapServers(), config.topics(),
                        LoopbackPort.orFree(settings.servingPort()), work.resolve("serving"),
                        work.resolve("logs/serving.log"), settings.servingOptions());
            }

            int slots = slotsFor(config);
            flink = startFlink(work, settings, slots, config.isSparse());
            JobID jobId = submit(flink, config, SavepointRestoreSettings.none());
            URI webUi = flink.getRestAddress().get(10, TimeUnit.SECONDS);
            LocalDeployment deployment = new LocalDeployment(work, settings, config, broker, serving, flink, slots,
                    jobId, webUi);
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

    /** Flink's network buffer size for sparse models; README says why, and that clusters should set it too. */
    private static final String SPARSE_SEGMENT_SIZE = "4kb";

    /** One slot per subtask of the widest operator: every pipeline shares one slot per index. */
    private static int slotsFor(TrainingConfig config) {
        return Math.max(Math.max(config.workers(), config.parameterServers()),
                config.isSparse() ? config.sparse().embeddingShards() : 0);
    }

    private static MiniCluster startFlink(Path work, Settings settings, int slots, boolean sparse) throws Exception {
        Configuration conf = flinkConfiguration(work, settings.webUiPort());
        if (sparse) {
            // A sparse model's records are a whole mini-batch each (lookups, replies, gradient
            // slices): Flink's default 32 KB network buffers hold dozens of batches in flight
            // between its operators, and the model trains that much staler. Measured on the flights
            // benchmark: progressive AUC 0.7458 with 32 KB buffers, 0.7556 with 4 KB.
            conf.setString("taskmanager.memory.segment-size", SPARSE_SEGMENT_SIZE);
        }
        MiniCluster flink = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        flink.start();
        return flink;
    }

    private static JobID submit(MiniCluster flink, TrainingConfig config, SavepointRestoreSettings restore)
            throws Exception {
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(flink.getConfiguration());
        TrainingJob.build(env, config);
        StreamGraph job = env.getStreamGraph();
        job.setSavepointRestoreSettings(restore);
        return flink.submitJob(job).get(60, TimeUnit.SECONDS).getJobID();
    }

    private static Configuration flinkConfiguration(Path work, int webUiPort) {
        Configuration conf = new Configuration();
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.port", Integer.toString(LoopbackPort.orFree(webUiPort)));
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("execution.checkpointing.dir", work.resolve("checkpoints").toUri().toString());
        conf.setString("state.backend.rocksdb.localdir", work.resolve("rocksdb").toString());
        conf.setString("io.tmp.dirs", work.resolve("tmp").toString());
        conf.setString("taskmanager.memory.managed.size", "256m");
        // The web UI's checkpoint history (default 10): enough to tell, after a day of one-second
        // checkpoints, which completed — the fault-tolerance tests check each has its snapshot.
        conf.setString("web.checkpoints.history", "1000");
        return conf;
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

    /**
     * Starts the broker again on its data directory (stopping it cleanly first if it still runs),
     * as after a crash: same cluster, same port, same records, so every client — the job's sources
     * and sinks, the model server, the feeder — finds it where it was.
     */
    public void restartBroker() throws IOException, InterruptedException {
        KafkaBroker old = broker;
        if (old.isAlive()) {
            old.close();
        }
        broker = KafkaBroker.builder(old.dataDir()).start();
        LOG.info("Kafka broker restarted at {} (pid {}, was {})", broker.bootstrapServers(), broker.pid(), old.pid());
    }

    /**
     * Stops the job, taking a savepoint as it stops: its sources stop reading and the savepoint
     * holds the state after the last records they read. The broker and the model server keep
     * running.
     *
     * @return the savepoint's location, for {@link #restoreJob}
     */
    public String stopWithSavepoint() throws Exception {
        String savepoint = flink.stopWithSavepoint(jobId, work.resolve("savepoints").toUri().toString(), false,
                SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
        flink.requestJobResult(jobId).get(1, TimeUnit.MINUTES);
        LOG.info("Training job {} stopped with savepoint {}", jobId, savepoint);
        return savepoint;
    }

    /**
     * Runs the job again from a savepoint taken by {@link #stopWithSavepoint}, with
     * {@code newConfig}: the same model on the same topics, possibly with other numbers of
     * workers and parameter servers. Every operator's state must find its operator. When the new
     * job needs more task slots than Flink has, Flink is started afresh with enough, as a cluster
     * would add a task manager. Returns once the job runs.
     */
    public void restoreJob(String savepoint, TrainingConfig newConfig) throws Exception {
        if (!jobStatus().isGloballyTerminalState()) {
            throw new IllegalStateException("Job " + jobId + " still runs; stop it with a savepoint first");
        }
        if (slotsFor(newConfig) > slots) {
            flink.close();
            slots = slotsFor(newConfig);
            flink = startFlink(work, settings, slots, newConfig.isSparse());
            webUi = flink.getRestAddress().get(10, TimeUnit.SECONDS);
        }
        jobId = submit(flink, newConfig, SavepointRestoreSettings.forPath(savepoint, false));
        config = newConfig;
        awaitRunning(Duration.ofSeconds(60));
        LOG.info("Training job {} restored from {} with {} workers and {} parameter servers", jobId, savepoint,
                newConfig.workers(), newConfig.parameterServers());
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
        if (serving == null) {
            throw new IllegalStateException("This deployment runs no model server");
        }
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
        if (serving != null) {
            serving.close();
        }
        broker.close();
    }
}
