package io.streambelief.serving;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.processes.ParentWatchdog;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The model server: follows {@code model-params} into a {@link ModelStore} and answers TF
 * Serving-shaped REST requests with the freshest complete model. A process of its own, with no
 * Flink on its classpath; also usable in-process ({@link #start}).
 */
public final class ModelServer implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelServer.class);

    private final HttpServer http;
    /** TF Serving's gRPC API, or null when not asked for. */
    private final Server grpc;
    private final ThreadPoolExecutor executor;
    private final ScheduledExecutorService sampler;
    private final ParamsConsumer consumer;
    private final LocalModelCopy copy;
    private final RowStore rows;

    private ModelServer(HttpServer http, Server grpc, ThreadPoolExecutor executor, ScheduledExecutorService sampler,
            ParamsConsumer consumer, LocalModelCopy copy, RowStore rows) {
        this.http = http;
        this.grpc = grpc;
        this.executor = executor;
        this.sampler = sampler;
        this.consumer = consumer;
        this.copy = copy;
        this.rows = rows;
    }

    /**
     * Settings with their defaults; port 0 picks a free port ({@link #port()} tells which).
     *
     * @param maxConcurrentRequests requests in progress at once, each on its own thread from its
     *     first byte to its answer; a connection that starts one more is closed unanswered
     * @param requestTimeout how long a request, headers and body, may take to arrive (whole
     *     seconds: the JDK server counts in seconds); one value per JVM, see {@link #start}
     * @param authToken the bearer token every request but {@code /healthz} must carry, or
     *     {@code null} for none
     */
    public record Settings(String host, int port, long maxRequestBytes, int maxConcurrentRequests,
            Duration requestTimeout, String authToken, PredictionBatcher.Settings batching, int grpcPort) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_PORT = 8501;
        /** TF Serving's gRPC port; the command line's default. */
        public static final int DEFAULT_GRPC_PORT = 8500;
        /** No gRPC server: {@link #defaults()}, so that servers in tests and programs bind no fixed port unasked. */
        public static final int NO_GRPC = -1;
        public static final long DEFAULT_MAX_REQUEST_BYTES = 16L << 20;
        public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 200;
        /** Ample for a 16 MiB body on a local network; a slow client holds a thread no longer than this. */
        public static final int DEFAULT_REQUEST_TIMEOUT_SECONDS = 5;

        public Settings {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            if (grpcPort < NO_GRPC || grpcPort > 65535) {
                throw new IllegalArgumentException("the gRPC port must be 0..65535 (or -1 for none), got " + grpcPort);
            }
            if (maxRequestBytes < 1 || maxConcurrentRequests < 1) {
                throw new IllegalArgumentException("request limit and concurrent requests must be positive");
            }
            Objects.requireNonNull(requestTimeout, "requestTimeout");
            Objects.requireNonNull(batching, "batching");
            if (requestTimeout.toSeconds() < 1 || requestTimeout.toNanosPart() != 0) {
                throw new IllegalArgumentException("the request timeout must be a whole number of seconds, at least 1; got "
                        + requestTimeout);
            }
        }

        public static Settings defaults() {
            return new Settings(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_CONCURRENT_REQUESTS,
                    Duration.ofSeconds(DEFAULT_REQUEST_TIMEOUT_SECONDS), null, PredictionBatcher.Settings.OFF, NO_GRPC);
        }

        public Settings withPort(int newPort) {
            return new Settings(host, newPort, maxRequestBytes, maxConcurrentRequests, requestTimeout, authToken,
                    batching, grpcPort);
        }

        public Settings withAuthToken(String token) {
            return new Settings(host, port, maxRequestBytes, maxConcurrentRequests, requestTimeout, token,
                    batching, grpcPort);
        }

        public Settings withMaxRequestBytes(long limit) {
            return new Settings(host, port, limit, maxConcurrentRequests, requestTimeout, authToken,
                    batching, grpcPort);
        }

        public Settings withMaxConcurrentRequests(int limit) {
            return new Settings(host, port, maxRequestBytes, limit, requestTimeout, authToken,
                    batching, grpcPort);
        }

        public Settings withBatching(PredictionBatcher.Settings newBatching) {
            return new Settings(host, port, maxRequestBytes, maxConcurrentRequests, requestTimeout, authToken,
                    newBatching, grpcPort);
        }

        /** Serves TF Serving's gRPC API on {@code port} too (0: a free one; {@link #NO_GRPC}: none). */
        public Settings withGrpcPort(int port) {
            return new Settings(host, this.port, maxRequestBytes, maxConcurrentRequests, requestTimeout, authToken,
                    batching, port);
        }

        public Settings withRequestTimeout(Duration timeout) {
            return new Settings(host, port, maxRequestBytes, maxConcurrentRequests, timeout, authToken,
                    batching, grpcPort);
        }
    }

    /**
     * Where the served models come from.
     *
     * @param paramsTopic model-params: definitions, and in {@code LATEST} mode the values
     * @param snapshotsTopic model-snapshots, read in {@code SNAPSHOT} mode
     * @param stateDir where the local copy of the served models is kept, or {@code null} for none
     * @param metricsTopic training-metrics, for the dashboard's training curves, or {@code null}
     * @param rowsTopic embedding-rows, the rows of sparse models, or {@code null} to serve dense models only
     */
    public record Feed(String bootstrapServers, String paramsTopic, String snapshotsTopic,
            ModelStore.Consistency consistency, Path stateDir, String metricsTopic, String rowsTopic,
            PublishGate.Settings publishGate) {

        public Feed {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(paramsTopic, "paramsTopic");
            Objects.requireNonNull(consistency, "consistency");
            Objects.requireNonNull(publishGate, "publishGate");
            if (consistency == ModelStore.Consistency.SNAPSHOT && snapshotsTopic == null) {
                throw new IllegalArgumentException("snapshot consistency needs the model-snapshots topic");
            }
        }

        /** The latest values of {@code paramsTopic}, kept in memory only. */
        public static Feed latest(String bootstrapServers, String paramsTopic) {
            return new Feed(bootstrapServers, paramsTopic, null, ModelStore.Consistency.LATEST, null, null, null,
                    PublishGate.Settings.DEFAULTS);
        }

        public Feed withStateDir(Path dir) {
            return new Feed(bootstrapServers, paramsTopic, snapshotsTopic, consistency, dir, metricsTopic, rowsTopic,
                    publishGate);
        }

        public Feed withMetrics(String topic) {
            return new Feed(bootstrapServers, paramsTopic, snapshotsTopic, consistency, stateDir, topic, rowsTopic,
                    publishGate);
        }

        public Feed withRows(String topic) {
            return new Feed(bootstrapServers, paramsTopic, snapshotsTopic, consistency, stateDir, metricsTopic, topic,
                    publishGate);
        }

        public Feed withPublishGate(PublishGate.Settings gate) {
            return new Feed(bootstrapServers, paramsTopic, snapshotsTopic, consistency, stateDir, metricsTopic,
                    rowsTopic, gate);
        }
    }

    /**
     * Serves {@code store} (kept up to date by whoever feeds it).
     *
     * @throws IllegalStateException if an earlier server of this JVM had another request timeout
     */
    public static ModelServer start(Settings settings, ModelStore store) throws IOException {
        return start(settings, store, new TrainingHistory(), null, null, null);
    }

    /** Serves the models of {@code topic}, following it from its beginning. */
    public static ModelServer start(Settings settings, String bootstrapServers, String topic) throws IOException {
        return start(settings, Feed.latest(bootstrapServers, topic));
    }

    /**
     * Serves the models of {@code feed}: at once those of its local copy, if it has one, and then
     * what its topics hold, followed from their beginning.
     */
    public static ModelServer start(Settings settings, Feed feed) throws IOException {
        LocalModelCopy copy = feed.stateDir() == null ? null : LocalModelCopy.open(feed.stateDir());
        RowStore rows = null;
        try {
            // The rows next to the model copy (not inside it: that directory is RocksDB's own).
            rows = feed.rowsTopic() == null ? null : RowStore.open(feed.stateDir() == null ? null
                    : feed.stateDir().resolveSibling(feed.stateDir().getFileName() + "-rows"));
            ModelStore store = new ModelStore(feed.consistency(), copy, new PublishGate(feed.publishGate()));
            TrainingHistory history = new TrainingHistory();
            ParamsConsumer consumer = new ParamsConsumer(feed.bootstrapServers(), feed.paramsTopic(),
                    feed.consistency() == ModelStore.Consistency.SNAPSHOT ? feed.snapshotsTopic() : null, store,
                    feed.metricsTopic(), history, feed.rowsTopic(), rows);
            ModelServer server = start(settings, store, history, consumer, copy, rows);
            consumer.start();
            return server;
        } catch (IOException | RuntimeException e) {
            if (copy != null) {
                copy.close();
            }
            if (rows != null) {
                rows.close();
            }
            throw e;
        }
    }

    static {
        // The JDK server otherwise leaves Nagle's algorithm on: a response's last small segment
        // then waits for the client's delayed ACK, some 40 ms per request on loopback. Read once,
        // when the server's configuration class loads, so it must be set before the first server.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    /** The request timeout the JDK server of this JVM was given, or null before the first server. */
    private static Duration jvmRequestTimeout;

    /**
     * The JDK server bounds a request's arrival (from its first byte until its body is read) with
     * {@code sun.net.httpserver.maxReqTime}, read once, when the JVM's first server is created:
     * a timer then closes every connection whose request is not in by then, which also ends a
     * handler's blocked read of the body. Nothing else in its API can stop a read, so the bound
     * is one per JVM (one per process in production); a server that asks for another fails
     * rather than running with the first one's.
     */
    private static synchronized void boundRequestArrival(Duration timeout) {
        if (jvmRequestTimeout == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", Long.toString(timeout.toSeconds()));
            jvmRequestTimeout = timeout;
        } else if (!jvmRequestTimeout.equals(timeout)) {
            throw new IllegalStateException("the JDK HTTP server takes one request timeout per JVM, and this one's is "
                    + jvmRequestTimeout.toSeconds() + " s; cannot serve with " + timeout.toSeconds() + " s");
        }
    }

    private static ModelServer start(Settings settings, ModelStore store, TrainingHistory history,
            ParamsConsumer consumer, LocalModelCopy copy, RowStore rows) throws IOException {
        boundRequestArrival(settings.requestTimeout());
        HttpServer http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 64);
        ServingMetrics metrics = new ServingMetrics(store);
        List<Filter> filters = new ArrayList<>();
        filters.add(new RequestLog(metrics));
        if (settings.authToken() != null) {
            filters.add(new BearerAuth(settings.authToken()));
        }
        for (HttpContext context : List.of(
                http.createContext(ModelsRouter.PREFIX,
                        new ModelsRouter(store, rows, settings.maxRequestBytes(), settings.batching())),
                http.createContext("/metrics", new MetricsHandler(metrics)),
                http.createContext("/healthz", new HealthHandler(consumer)),
                http.createContext("/", new DashboardHandler(store, history, rows)))) {
            context.getFilters().addAll(filters);
        }
        // The JDK server reads a request's headers and body on the executor's thread, blocking, so
        // a slow sender holds a thread until the request timeout; behind a fixed pool's queue a
        // dozen of them would keep every other request waiting. So each request in progress has a
        // thread of its own and nothing is queued: over the cap the server's dispatcher, which
        // catches the rejection, closes the connection at once.
        ThreadPoolExecutor executor = new ThreadPoolExecutor(0, settings.maxConcurrentRequests(), 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), runnable -> {
                    Thread thread = new Thread(runnable, "http");
                    thread.setDaemon(true);
                    return thread;
                }, (task, pool) -> {
                    metrics.refused();
                    throw new RejectedExecutionException(settings.maxConcurrentRequests() + " requests in progress");
                });
        http.setExecutor(executor);
        Server grpc = settings.grpcPort() == Settings.NO_GRPC ? null : startGrpc(settings, store, metrics);
        http.start();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "dashboard-sampler");
            thread.setDaemon(true);
            return thread;
        });
        sampler.scheduleAtFixedRate(() -> history.sample(store, System.currentTimeMillis()), 0, 1, TimeUnit.SECONDS);
        return new ModelServer(http, grpc, executor, sampler, consumer, copy, rows);
    }

    /**
     * TF Serving's gRPC API on its own port, with REST's limits: the request size, the concurrent
     * calls (per connection: gRPC multiplexes them), the bearer token as {@code authorization}
     * metadata, and the same request metrics.
     */
    private static Server startGrpc(Settings settings, ModelStore store, ServingMetrics metrics) throws IOException {
        ServerServiceDefinition service = new GrpcPredictionService(store, settings.batching(), metrics).bindService();
        if (settings.authToken() != null) {
            service = ServerInterceptors.intercept(service, new GrpcBearerAuth(new BearerAuth(settings.authToken()),
                    metrics));
        }
        return NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.grpcPort()))
                .addService(service)
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, settings.maxRequestBytes()))
                .maxConcurrentCallsPerConnection(settings.maxConcurrentRequests())
                .build()
                .start();
    }

    /** The gRPC port, or -1 when this server serves REST only. */
    public int grpcPort() {
        return grpc == null ? -1 : grpc.getPort();
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** Requests being read or answered now, each holding a thread. */
    int requestsInProgress() {
        return executor.getActiveCount();
    }

    @Override
    public void close() {
        sampler.shutdownNow();
        if (consumer != null) {
            consumer.close();
        }
        if (copy != null) {
            // After the consumer: it is the only writer.
            copy.close();
        }
        if (rows != null) {
            rows.close();
        }
        if (grpc != null) {
            grpc.shutdownNow();
        }
        http.stop(1);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Command(name = "model-server", mixinStandardHelpOptions = true,
            description = "Serves the freshest models from a Streambelief model-params topic over REST.")
    static final class ServeCommand implements Callable<Integer> {
        @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT",
                description = "Kafka bootstrap servers.")
        String bootstrapServers;

        @Option(names = "--params-topic", defaultValue = TopicNames.MODEL_PARAMS, description = "Default: ${DEFAULT-VALUE}.")
        String paramsTopic;

        @Option(names = "--snapshots-topic", defaultValue = TopicNames.MODEL_SNAPSHOTS,
                description = "Read in snapshot consistency. Default: ${DEFAULT-VALUE}.")
        String snapshotsTopic;

        @Option(names = "--metrics-topic", defaultValue = TopicNames.TRAINING_METRICS,
                description = "The job's progress reports, drawn by the dashboard at /. Default: ${DEFAULT-VALUE}.")
        String metricsTopic;

        @Option(names = {"--embedding-rows-topic", "--rows-topic"}, defaultValue = TopicNames.EMBEDDING_ROWS,
                description = "The rows of sparse (wide & deep) models, kept in a local RocksDB next to the state "
                        + "directory (or a temporary one); named as the job's option (--rows-topic is the older "
                        + "name). Default: ${DEFAULT-VALUE}.")
        String rowsTopic;

        @Option(names = "--consistency", defaultValue = "latest", paramLabel = "latest|snapshot",
                description = "latest: every shard's newest values from the params topic (freshest); snapshot: "
                        + "whole models as of each completed checkpoint, from the snapshots topic (consistent "
                        + "across shards, a checkpoint interval older). Default: ${DEFAULT-VALUE}.")
        ModelStore.Consistency consistency;

        @Option(names = "--state-dir", defaultValue = "${env:STREAMBELIEF_STATE_DIR:-serving-state}", paramLabel = "DIR",
                description = "Keeps the served models in a local RocksDB here, so a restarted server answers at "
                        + "once, before it reaches Kafka; one directory per server. An empty value keeps nothing. "
                        + "Default: ${DEFAULT-VALUE} (the STREAMBELIEF_STATE_DIR environment variable, which the "
                        + "container image sets, or serving-state in the working directory).")
        String stateDir;

        @Option(names = "--host", defaultValue = "${env:STREAMBELIEF_HOST:-" + Settings.DEFAULT_HOST + "}",
                description = "Address to listen on. Default: ${DEFAULT-VALUE} (the STREAMBELIEF_HOST environment "
                        + "variable, which the container image sets to 0.0.0.0, or this machine only).")
        String host;

        @Option(names = "--port", defaultValue = "" + Settings.DEFAULT_PORT, description = "Default: ${DEFAULT-VALUE}.")
        int port;

        @Option(names = "--max-request-bytes", defaultValue = "" + Settings.DEFAULT_MAX_REQUEST_BYTES,
                description = "Larger requests get 413. Default: ${DEFAULT-VALUE}.")
        long maxRequestBytes;

        @Option(names = "--max-concurrent-requests", paramLabel = "N",
                defaultValue = "" + Settings.DEFAULT_MAX_CONCURRENT_REQUESTS,
                description = "Requests in progress at once, each on a thread of its own from its first byte to its "
                        + "answer; a connection that starts one more is closed unanswered (counted in "
                        + "streambelief_http_requests_refused_total) rather than queued behind slow clients. Idle "
                        + "keep-alive connections do not count. Default: ${DEFAULT-VALUE}.")
        int maxConcurrentRequests;

        @Option(names = "--request-timeout", paramLabel = "SECONDS",
                defaultValue = "" + Settings.DEFAULT_REQUEST_TIMEOUT_SECONDS,
                description = "How long a request, headers and body, may take to arrive; a slower client's connection "
                        + "is closed, so it holds its thread no longer. Raise it for large requests over slow links. "
                        + "Default: ${DEFAULT-VALUE}.")
        int requestTimeoutSeconds;

        @Option(names = "--publish-gate", paramLabel = "RATIO", defaultValue = "2",
                description = "Keep serving the last version taken while a model's progressive loss (from the "
                        + "metrics topic) over the last 30 s is more than RATIO times its median over the 10 minutes "
                        + "before; take new versions again once it is back under. 0: off. Default: ${DEFAULT-VALUE}.")
        double publishGateRatio;

        @Option(names = "--auth-token", paramLabel = "TOKEN", defaultValue = "${env:STREAMBELIEF_AUTH_TOKEN}",
                description = "Require 'Authorization: Bearer TOKEN' on every request but /healthz. Default: the "
                        + "STREAMBELIEF_AUTH_TOKEN environment variable (safer than the command line, which other "
                        + "users can see); none if unset.")
        String authToken;

        @Option(names = "--grpc-port", paramLabel = "PORT", defaultValue = "" + Settings.DEFAULT_GRPC_PORT,
                description = "Port of TF Serving's gRPC PredictionService (Predict, GetModelMetadata), beside REST; "
                        + "0: a free one; -1: none. Default: ${DEFAULT-VALUE}.")
        int grpcPort;

        @Option(names = "--batch-max-rows", paramLabel = "N",
                defaultValue = "" + PredictionBatcher.Settings.DEFAULT_MAX_ROWS,
                description = "With --batch-timeout-micros: rows one batched forward pass holds at most (TF Serving's "
                        + "max_batch_size); a request with more runs alone. Default: ${DEFAULT-VALUE}.")
        int batchMaxRows;

        @Option(names = "--batch-timeout-micros", paramLabel = "MICROS", defaultValue = "0",
                description = "Gather concurrent predictions of a dense model into one forward pass, each request "
                        + "waiting at most this long for others (TF Serving's batch_timeout_micros; e.g. 2000, at most "
                        + "10000000). 0: every request makes its own pass. Default: ${DEFAULT-VALUE}.")
        long batchTimeoutMicros;

        Settings settings() {
            return new Settings(host, port, maxRequestBytes, maxConcurrentRequests,
                    Duration.ofSeconds(requestTimeoutSeconds), authToken == null || authToken.isEmpty() ? null : authToken,
                    new PredictionBatcher.Settings(batchMaxRows, Duration.ofNanos(1_000 * batchTimeoutMicros)), grpcPort);
        }

        @Override
        public Integer call() throws Exception {
            ParentWatchdog.exitWhenParentDies();
            Feed feed = new Feed(bootstrapServers, paramsTopic, snapshotsTopic, consistency,
                    stateDir.isBlank() ? null : Path.of(stateDir), metricsTopic, rowsTopic,
                    PublishGate.Settings.DEFAULTS.withRatio(publishGateRatio));
            ModelServer server = ModelServer.start(settings(), feed);
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "stop-model-server"));
            String source = (consistency == ModelStore.Consistency.SNAPSHOT ? snapshotsTopic : paramsTopic) + " from "
                    + bootstrapServers;
            String grpc = server.grpcPort() < 0 ? "" : " and gRPC on " + host + ":" + server.grpcPort();
            LOG.info("Serving on http://{}:{}{} ({})", host, server.port(), grpc, source);
            System.out.println("Serving on http://" + host + ":" + server.port() + grpc + " (" + source + ")");
            Thread.currentThread().join();
            return 0;
        }
    }

    /**
     * The server's settings and feed as {@code model-server} takes them from these arguments,
     * without starting it: what a deployment's manifests are checked with.
     *
     * @throws CommandLine.ParameterException for an unknown option or a value it does not take
     */
    public static Arguments argumentsOf(String... args) {
        ServeCommand command = new ServeCommand();
        commandLine(command).parseArgs(args);
        return new Arguments(command.settings(), command.bootstrapServers, command.paramsTopic,
                command.snapshotsTopic, command.metricsTopic, command.rowsTopic, command.stateDir);
    }

    /** What {@link #argumentsOf} read: the settings and the topics the server reads. */
    public record Arguments(Settings settings, String bootstrapServers, String paramsTopic, String snapshotsTopic,
            String metricsTopic, String rowsTopic, String stateDir) {}

    /** The command line as {@link #main} reads it into {@code command}. */
    static CommandLine commandLine(ServeCommand command) {
        return new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true);
    }

    public static void main(String[] args) {
        CommandLine commandLine = commandLine(new ServeCommand());
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("model-server: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        });
        System.exit(commandLine.execute(args));
    }
}
