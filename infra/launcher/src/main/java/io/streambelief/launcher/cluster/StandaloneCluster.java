package io.streambelief.launcher.cluster;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.JobID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.processes.ChildJvm;
import io.streambelief.processes.LoopbackPort;
import io.streambelief.processes.ProjectHome;
import io.streambelief.processes.WatchedMain;

/**
 * A real multi-process Flink session cluster on this machine, started from Maven artifacts (Flink
 * publishes no distribution there): one JobManager and N TaskManagers, each in its own JVM, on
 * 127.0.0.1, with RocksDB state, checkpoints under the work directory, and a short fixed-delay
 * restart strategy. TaskManagers can be killed (SIGKILL, as a crashed machine), which is what the
 * fault-tolerance test and the recovery benchmark do; a supervisor replaces every TaskManager
 * process that ends, killed or not, as a Kubernetes Deployment or systemd would, and says why
 * it ended. Each TaskManager's resource id is {@code taskmanager-N} (N in start order), which is
 * how the REST API names it.
 *
 * <p>Every process's classpath is {@code infra/flink-cluster-runtime}'s (Flink, Log4j, DL4J and
 * ND4J's natives, as a Flink installation's {@code lib/} would hold them); jobs come as job jars.
 * The children end with this JVM, even when it is killed. Work directory layout: {@code conf/}
 * (config.yaml, log4j), {@code logs/}, {@code checkpoints/}, {@code rocksdb/}, {@code tmp/}.
 */
public final class StandaloneCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneCluster.class);

    /** Where the flink-cluster-runtime module writes the cluster's classpath. */
    public static final String CLASSPATH_FILE = "infra/flink-cluster-runtime/target/flink-classpath.txt";
    /** Where the flink-cluster-runtime module puts the GPU driver, in the TaskManagers' plugins folder. */
    public static final String GPU_PLUGIN = "infra/flink-cluster-runtime/target/plugins/gpu/flink-gpu-driver.jar";
    /** Where the flink-jobs module writes the job jar. */
    public static final String JOB_JAR = "flink-jobs/target/streambelief-job.jar";

    static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    private static final String RESOURCE_PARAMS_MAIN = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    private final Path workDir;
    private final List<String> classpath;
    private final LaunchCommand taskManagerCommand;
    private final ChildJvm jobManager;
    private final ClusterRestApi rest;
    private final List<ChildJvm> taskManagers = new ArrayList<>();
    private final Set<ChildJvm> killed = new HashSet<>();
    /** The TaskManagers the supervisor has seen end: killed ones, and any other with the reason. */
    private final Set<ChildJvm> ended = new HashSet<>();
    private final List<String> unexpectedExits = new ArrayList<>();
    private final ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "taskmanager-supervisor");
        thread.setDaemon(true);
        return thread;
    });
    private boolean closing;

    private StandaloneCluster(Path workDir, List<String> classpath, LaunchCommand taskManagerCommand,
            ChildJvm jobManager, ClusterRestApi rest) {
        this.workDir = workDir;
        this.classpath = classpath;
        this.taskManagerCommand = taskManagerCommand;
        this.jobManager = jobManager;
        this.rest = rest;
    }

    public static Builder builder(Path workDir) {
        return new Builder(workDir);
    }

    /** The REST API and Web UI, {@code http://127.0.0.1:<port>}. */
    public URI restAddress() {
        return rest.address();
    }

    public ClusterRestApi rest() {
        return rest;
    }

    public Path workDir() {
        return workDir;
    }

    /** Uploads a job jar and runs its main class with {@code arguments}; returns the job it submitted. */
    public JobID submit(Path jobJar, String entryClass, List<String> arguments) throws IOException {
        String jarId = rest.uploadJar(jobJar);
        return rest.runJar(jarId, entryClass, arguments);
    }

    /** Every process of the cluster: the JobManager, then the TaskManagers in start order (killed ones too). */
    public synchronized List<ChildJvm> processes() {
        List<ChildJvm> all = new ArrayList<>();
        all.add(jobManager);
        all.addAll(taskManagers);
        return all;
    }

    /** A TaskManager this class killed. */
    public record KilledTaskManager(String resourceId, long pid) {}

    /**
     * Kills a TaskManager that runs subtasks of {@code job} (the first in start order) with SIGKILL
     * — no shutdown hook, no goodbye to the JobManager, as when a machine dies — and waits until
     * the process is gone. The supervisor starts its replacement. Killing an idle TaskManager
     * would test nothing: the job would not even notice.
     *
     * @throws IllegalStateException if no TaskManager of this cluster runs a subtask of the job
     */
    public KilledTaskManager killTaskManagerRunning(JobID job) throws IOException {
        Set<String> busy = rest.taskManagersRunning(job);
        ChildJvm victim;
        synchronized (this) {
            victim = taskManagers.stream()
                    .filter(tm -> tm.isAlive() && busy.contains(resourceId(tm)))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("No running TaskManager of this cluster runs a "
                            + "subtask of job " + job + " (the REST API names " + busy + ")"));
            killed.add(victim);
        }
        victim.kill();
        LOG.info("Killed {} (pid {}), which ran subtasks of job {}", resourceId(victim), victim.pid(), job);
        return new KilledTaskManager(resourceId(victim), victim.pid());
    }

    /**
     * TaskManagers that ended although nobody killed them, each with its exit code and the end of
     * its log: a healthy cluster has none, also when a peer was killed.
     */
    public synchronized List<String> unexpectedExits() {
        return List.copyOf(unexpectedExits);
    }

    /** Starts one more TaskManager (at start, or a replacement); does not wait for it to register. */
    private synchronized ChildJvm startTaskManager() throws IOException {
        String id = "taskmanager-" + (taskManagers.size() + 1);
        List<String> jvmOptions = new ArrayList<>(taskManagerCommand.jvmOptions());
        jvmOptions.addAll(processOptions(workDir, id));
        List<String> arguments = new ArrayList<>(taskManagerCommand.arguments());
        arguments.addAll(List.of("-D", "taskmanager.resource-id=" + id));
        ChildJvm taskManager = ChildJvm.start("flink-" + id, classpath, jvmOptions,
                WatchedMain.class.getName(), arguments,
                // One BLAS thread per task: the task threads already share the cores (measured: twice as
                // fast on two cores). CUDA numbers devices as nvidia-smi does, which is how the GPU driver
                // reports them.
                Map.of("OMP_NUM_THREADS", "1", "FLINK_PLUGINS_DIR", pluginsDir().toString(),
                        "CUDA_DEVICE_ORDER", "PCI_BUS_ID"),
                workDir.resolve("logs/" + id + ".out"));
        taskManagers.add(taskManager);
        return taskManager;
    }

    private static String resourceId(ChildJvm taskManager) {
        return taskManager.name().substring("flink-".length());
    }

    /** Replaces every TaskManager process that has ended since the last look, saying why it ended. */
    private synchronized void superviseTaskManagers() {
        if (closing) {
            return;
        }
        for (ChildJvm taskManager : List.copyOf(taskManagers)) {
            if (taskManager.isAlive() || !ended.add(taskManager)) {
                continue;
            }
            if (!killed.contains(taskManager)) {
                String exit = resourceId(taskManager) + " (pid " + taskManager.pid() + ") exited with code "
                        + exitCode(taskManager) + "; log " + taskManager.logFile() + " and "
                        + workDir.resolve("logs/" + resourceId(taskManager) + ".log") + "; its output ends:\n"
                        + taskManager.logTail(20);
                unexpectedExits.add(exit);
                LOG.warn("TaskManager {}", exit);
            }
            try {
                ChildJvm replacement = startTaskManager();
                LOG.info("Started {} to replace {}", resourceId(replacement), resourceId(taskManager));
            } catch (IOException | RuntimeException e) {
                LOG.error("Could not start a TaskManager to replace {}", resourceId(taskManager), e);
            }
        }
    }

    private static int exitCode(ChildJvm process) {
        try {
            return process.waitFor(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static Path pluginsDir() {
        return ProjectHome.buildOutput(GPU_PLUGIN, "The GPU driver plugin").getParent().getParent();
    }

    /** Waits until at least {@code count} TaskManagers are registered with the JobManager. */
    public void awaitTaskManagers(int count, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (rest.taskManagers() < count) {
            checkJobManagerAlive();
            checkTaskManagersAlive();
            if (System.nanoTime() > deadline) {
                throw new IOException("Only " + rest.taskManagers() + " of " + count + " TaskManagers registered within "
                        + timeout.toSeconds() + " s; logs in " + workDir.resolve("logs"));
            }
            Thread.sleep(200);
        }
    }

    /** Only the TaskManagers this class killed, or the supervisor has replaced, may be dead. */
    private synchronized void checkTaskManagersAlive() throws IOException, InterruptedException {
        for (ChildJvm taskManager : taskManagers) {
            if (!taskManager.isAlive() && !killed.contains(taskManager) && !ended.contains(taskManager)) {
                throw new IOException(taskManager.name() + " exited (code " + taskManager.waitFor(Duration.ZERO)
                        + "; log " + taskManager.logFile() + "):\n" + taskManager.logTail(40));
            }
        }
    }

    private void checkJobManagerAlive() throws IOException {
        if (!jobManager.isAlive()) {
            throw new IOException("The Flink JobManager exited (log " + workDir.resolve("logs/jobmanager.log") + "):\n"
                    + jobManager.logTail(40));
        }
    }

    /** Stops the TaskManagers, then the JobManager (SIGTERM, so they clean up; SIGKILL after a grace period). */
    @Override
    public synchronized void close() {
        closing = true;
        supervisor.shutdownNow();
        for (ChildJvm taskManager : taskManagers) {
            taskManager.close();
        }
        jobManager.close();
    }

    /** Options of a cluster; the defaults suit a developer machine with two cores. */
    public static final class Builder {
        private final Path workDir;
        private int taskManagers = 2;
        private int slotsPerTaskManager = 1;
        private int restPort;
        private String taskManagerMemory = "1536m";
        private String jobManagerMemory = "1024m";
        private Duration restartDelay = Duration.ofSeconds(1);
        private Duration startTimeout = Duration.ofSeconds(120);
        private List<String> classpath;
        private int gpus;
        private Path gpuDiscoveryScript;

        private Builder(Path workDir) {
            this.workDir = Objects.requireNonNull(workDir, "workDir").toAbsolutePath().normalize();
        }

        /** TaskManager processes started with the cluster (default 2). */
        public Builder taskManagers(int count) {
            this.taskManagers = count;
            return this;
        }

        /** Task slots per TaskManager (default 1: a job of parallelism 2 then spans two processes). */
        public Builder slotsPerTaskManager(int slots) {
            this.slotsPerTaskManager = slots;
            return this;
        }

        /** Port of the REST API and Web UI on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder restPort(int port) {
            this.restPort = port;
            return this;
        }

        /** Total process memory of each TaskManager, in Flink's notation (default 1536m). */
        public Builder taskManagerMemory(String size) {
            this.taskManagerMemory = size;
            return this;
        }

        /** Delay between a failure and the job's restart (default 1 s). */
        public Builder restartDelay(Duration delay) {
            this.restartDelay = delay;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /**
         * Declares {@code amount} GPUs per TaskManager through Flink's external-resource framework
         * ({@code external-resource.gpu.*}, with Streambelief's GPU driver plugin); their indexes
         * come from {@code discoveryScript}, called as {@code <script> <amount>}, or from
         * {@code nvidia-smi} when it is null. Default: no GPUs.
         */
        public Builder gpus(int amount, Path discoveryScript) {
            this.gpus = amount;
            this.gpuDiscoveryScript = discoveryScript == null ? null : discoveryScript.toAbsolutePath();
            return this;
        }

        /** The processes' classpath; by default read from the flink-cluster-runtime module's build output. */
        public Builder classpath(List<String> classpath) {
            this.classpath = List.copyOf(classpath);
            return this;
        }

        /** Starts the JobManager and the TaskManagers; returns once all TaskManagers are registered. */
        public StandaloneCluster start() throws IOException, InterruptedException {
            if (taskManagers < 1 || slotsPerTaskManager < 1) {
                throw new IllegalArgumentException("A cluster needs at least one TaskManager with one slot");
            }
            Path conf = Files.createDirectories(workDir.resolve("conf"));
            Files.createDirectories(workDir.resolve("logs"));
            int port = LoopbackPort.orFree(restPort);
            Files.writeString(conf.resolve("config.yaml"), config(port), StandardCharsets.UTF_8);
            Files.writeString(conf.resolve("log4j.properties"), LOG4J_CONFIG, StandardCharsets.UTF_8);

            List<String> cp = new ArrayList<>(classpath != null ? classpath : defaultClasspath());
            // WatchedMain's module (only JDK classes are used from it); a job jar's own copy of our
            // classes still wins, because Flink loads user code child-first.
            cp.add(codeLocation(WatchedMain.class));
            LaunchCommand jobManagerCommand = resourceParameters(cp, conf, "GET_JM_RESOURCE_PARAMS",
                    List.of("--configDir", conf.toString(), "--executionMode", "cluster"), JOB_MANAGER_MAIN);
            LaunchCommand taskManagerCommand = resourceParameters(cp, conf, "GET_TM_RESOURCE_PARAMS",
                    List.of("--configDir", conf.toString()), TASK_MANAGER_MAIN);

            List<String> jmOptions = new ArrayList<>(jobManagerCommand.jvmOptions());
            jmOptions.addAll(processOptions(workDir, "jobmanager"));
            ChildJvm jobManager = ChildJvm.start("flink-jobmanager", cp, jmOptions, WatchedMain.class.getName(),
                    jobManagerCommand.arguments(), Map.of("OMP_NUM_THREADS", "1"), workDir.resolve("logs/jobmanager.out"));
            StandaloneCluster cluster = new StandaloneCluster(workDir, cp, taskManagerCommand, jobManager,
                    new ClusterRestApi(URI.create("http://127.0.0.1:" + port)));
            try {
                for (int i = 0; i < taskManagers; i++) {
                    cluster.startTaskManager();
                }
                cluster.awaitRestApi(startTimeout);
                cluster.awaitTaskManagers(taskManagers, startTimeout);
                cluster.supervisor.scheduleWithFixedDelay(cluster::superviseTaskManagers, 500, 500,
                        TimeUnit.MILLISECONDS);
            } catch (IOException | InterruptedException | RuntimeException e) {
                cluster.close();
                throw e;
            }
            LOG.info("Flink cluster ready at {}: {} TaskManagers with {} slots each (work dir {})",
                    cluster.restAddress(), taskManagers, slotsPerTaskManager, workDir);
            return cluster;
        }

        /**
         * Flink 2 reads {@code config.yaml} (flat keys are valid YAML). Everything binds to
         * 127.0.0.1; RPC and blob ports are free ones, so clusters of several people can share a machine.
         */
        private String config(int restPort) {
            return String.join("\n",
                    "# Written by Streambelief's StandaloneCluster on every start; edit the code, not this file.",
                    "jobmanager.rpc.address: 127.0.0.1",
                    "jobmanager.rpc.port: " + LoopbackPort.free(),
                    "jobmanager.bind-host: 127.0.0.1",
                    "jobmanager.memory.process.size: " + jobManagerMemory,
                    "taskmanager.host: 127.0.0.1",
                    "taskmanager.bind-host: 127.0.0.1",
                    "taskmanager.numberOfTaskSlots: " + slotsPerTaskManager,
                    "taskmanager.memory.process.size: " + taskManagerMemory,
                    // RocksDB's share; the rest of the budget is heap for DL4J's work arrays.
                    "taskmanager.memory.managed.size: 256m",
                    "rest.address: 127.0.0.1",
                    "rest.bind-address: 127.0.0.1",
                    "rest.port: " + restPort,
                    "blob.server.port: " + LoopbackPort.free(),
                    // Spread a job's subtasks over all TaskManagers rather than filling one first
                    // (Flink 2 reads only this key; 1.x's cluster.evenly-spread-out-slots is gone).
                    "taskmanager.load-balance.mode: slots",
                    "state.backend.type: rocksdb",
                    "state.backend.incremental: true",
                    "execution.checkpointing.dir: " + workDir.resolve("checkpoints").toUri(),
                    "state.backend.rocksdb.localdir: " + workDir.resolve("rocksdb"),
                    "io.tmp.dirs: " + workDir.resolve("tmp"),
                    "web.tmpdir: " + workDir.resolve("tmp/web"),
                    "web.upload.dir: " + workDir.resolve("uploads"),
                    "restart-strategy.type: fixed-delay",
                    "restart-strategy.fixed-delay.attempts: 100",
                    "restart-strategy.fixed-delay.delay: " + restartDelay.toMillis() + " ms",
                    // A killed TaskManager is noticed at once through refused heartbeat RPCs
                    // (heartbeat.rpc-failure-threshold, default 2 in a row), so the timeout can stay
                    // generous: a TaskManager that is merely slow, in a GC pause or on two busy
                    // cores, must not be declared lost and its tasks failed.
                    "heartbeat.interval: 1000",
                    "heartbeat.timeout: 30000",
                    gpuConfig());
        }

        /** What infra/README.md documents for a GPU TaskManager. */
        private String gpuConfig() {
            if (gpus < 1) {
                return "";
            }
            return String.join("\n",
                    "external-resources: gpu",
                    "external-resource.gpu.amount: " + gpus,
                    "external-resource.gpu.driver-factory.class: io.streambelief.gpu.GpuDriverFactory",
                    gpuDiscoveryScript == null ? ""
                            : "external-resource.gpu.param.discovery-script.path: " + gpuDiscoveryScript,
                    "");
        }

        /**
         * The JVM options and {@code -D} arguments Flink's own start scripts compute for a process
         * of this configuration (memory sizes, CPU cores), from {@code BashJavaUtils} as the scripts
         * do; without them a TaskManager refuses to start ("taskmanager.cpu.cores is not set").
         */
        private LaunchCommand resourceParameters(List<String> cp, Path conf, String command, List<String> mainArguments,
                String mainClass) throws IOException, InterruptedException {
            Path out = workDir.resolve("logs/" + command.toLowerCase(Locale.ROOT) + ".out");
            Files.deleteIfExists(out);
            ChildJvm utils = ChildJvm.start("flink-resource-params", cp, List.of("-Xmx128m"), RESOURCE_PARAMS_MAIN,
                    List.of(command, "--configDir", conf.toString()), Map.of(), out);
            int code = utils.waitFor(Duration.ofSeconds(60));
            utils.close();
            List<String> results = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
                    .filter(line -> line.startsWith(RESULT_PREFIX))
                    .map(line -> line.substring(RESULT_PREFIX.length()).strip())
                    .toList();
            if (code != 0 || results.size() < 2) {
                throw new IOException("Flink could not compute the process parameters (" + command + ", exit code "
                        + code + "); check the memory settings:\n" + utils.logTail(30));
            }
            List<String> arguments = new ArrayList<>();
            arguments.add(mainClass);
            arguments.addAll(mainArguments);
            arguments.addAll(words(results.get(results.size() - 1)));
            return new LaunchCommand(words(results.get(results.size() - 2)), arguments);
        }

        private static List<String> defaultClasspath() throws IOException {
            Path file = ProjectHome.buildOutput(CLASSPATH_FILE, "The Flink cluster's classpath");
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new IllegalStateException("The Flink cluster's classpath in " + file + " is empty; rebuild the project");
            }
            return List.of(text.split(File.pathSeparator));
        }
    }

    /** What starts one kind of process: JVM options, then the arguments of {@link WatchedMain}. */
    private record LaunchCommand(List<String> jvmOptions, List<String> arguments) {}

    private void awaitRestApi(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!rest.isUp()) {
            checkJobManagerAlive();
            if (System.nanoTime() > deadline) {
                throw new IOException("The Flink JobManager's REST API did not answer at " + rest.address() + " within "
                        + timeout.toSeconds() + " s; log " + workDir.resolve("logs/jobmanager.log"));
            }
            Thread.sleep(200);
        }
    }

    /**
     * What Flink's distribution passes every process through {@code env.java.opts.all} in its
     * default config.yaml: running a job's main in the JobManager (REST submission) needs
     * java.util opened, and Flink's serializers and Pekko reflect into the others.
     */
    private static final List<String> OPENS = List.of("java.lang", "java.net", "java.io", "java.nio", "sun.nio.ch",
            "java.lang.reflect", "java.text", "java.time", "java.util", "java.util.concurrent",
            "java.util.concurrent.atomic", "java.util.concurrent.locks");

    private static List<String> processOptions(Path workDir, String name) {
        List<String> options = new ArrayList<>();
        OPENS.forEach(pkg -> options.add("--add-opens=java.base/" + pkg + "=ALL-UNNAMED"));
        options.add("-XX:+UseParallelGC");
        options.add("-Dlog.file=" + workDir.resolve("logs/" + name + ".log"));
        options.add("-Dlog4j.configurationFile=" + workDir.resolve("conf/log4j.properties").toUri());
        return options;
    }

    private static List<String> words(String text) {
        return text.isBlank() ? List.of() : Arrays.asList(text.strip().split("\\s+"));
    }

    private static String codeLocation(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Flink's processes log to their own file ({@code -Dlog.file}, which the Web UI shows); the
     * cluster's classpath carries no Log4j configuration of its own.
     */
    private static final String LOG4J_CONFIG = String.join("\n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = file",
            "logger.kafka.name = org.apache.kafka",
            "logger.kafka.level = WARN",
            "logger.pekko.name = org.apache.pekko",
            "logger.pekko.level = WARN",
            "appender.file.type = File",
            "appender.file.name = file",
            "appender.file.fileName = ${sys:log.file}",
            "appender.file.append = true",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-40c{1} %m%n",
            "");
}
