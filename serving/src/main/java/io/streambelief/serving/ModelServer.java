package io.streambelief.serving;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;

import io.streambelief.kafka.process.ParentWatchdog;
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
    private final ExecutorService executor;
    private final ParamsConsumer consumer;

    private ModelServer(HttpServer http, ExecutorService executor, ParamsConsumer consumer) {
        this.http = http;
        this.executor = executor;
        this.consumer = consumer;
    }

    /**
     * Settings with their defaults; port 0 picks a free port ({@link #port()} tells which).
     *
     * @param authToken the bearer token every request but {@code /healthz} must carry, or
     *     {@code null} for none
     */
    public record Settings(String host, int port, long maxRequestBytes, int threads, String authToken) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_PORT = 8501;
        public static final long DEFAULT_MAX_REQUEST_BYTES = 16L << 20;

        public Settings {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            if (maxRequestBytes < 1 || threads < 1) {
                throw new IllegalArgumentException("request limit and threads must be positive");
            }
        }

        public static Settings defaults() {
            return new Settings(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_REQUEST_BYTES, 8, null);
        }

        public Settings withPort(int newPort) {
            return new Settings(host, newPort, maxRequestBytes, threads, authToken);
        }

        public Settings withAuthToken(String token) {
            return new Settings(host, port, maxRequestBytes, threads, token);
        }

        public Settings withMaxRequestBytes(long limit) {
            return new Settings(host, port, limit, threads, authToken);
        }
    }

    /** Serves {@code store} (kept up to date by whoever feeds it). */
    public static ModelServer start(Settings settings, ModelStore store) throws IOException {
        return start(settings, store, null);
    }

    /** Serves the models of {@code topic}, following it from its beginning. */
    public static ModelServer start(Settings settings, String bootstrapServers, String topic) throws IOException {
        ModelStore store = new ModelStore();
        ParamsConsumer consumer = new ParamsConsumer(bootstrapServers, topic, store);
        ModelServer server = start(settings, store, consumer);
        consumer.start();
        return server;
    }

    static {
        // The JDK server otherwise leaves Nagle's algorithm on: a response's last small segment
        // then waits for the client's delayed ACK, some 40 ms per request on loopback. Read once,
        // when the server's configuration class loads, so it must be set before the first server.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private static ModelServer start(Settings settings, ModelStore store, ParamsConsumer consumer) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 64);
        ServingMetrics metrics = new ServingMetrics(store);
        List<Filter> filters = new ArrayList<>();
        filters.add(new RequestLog(metrics));
        if (settings.authToken() != null) {
            filters.add(new BearerAuth(settings.authToken()));
        }
        for (HttpContext context : List.of(
                http.createContext(ModelsHandler.PREFIX, new ModelsHandler(store, settings.maxRequestBytes())),
                http.createContext("/metrics", new MetricsHandler(metrics)),
                http.createContext("/healthz", new HealthHandler()),
                http.createContext("/", new NotFoundHandler()))) {
            context.getFilters().addAll(filters);
        }
        ExecutorService executor = Executors.newFixedThreadPool(settings.threads(), runnable -> {
            Thread thread = new Thread(runnable, "http");
            thread.setDaemon(true);
            return thread;
        });
        http.setExecutor(executor);
        http.start();
        return new ModelServer(http, executor, consumer);
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        if (consumer != null) {
            consumer.close();
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

        @Option(names = "--params-topic", defaultValue = "model-params", description = "Default: ${DEFAULT-VALUE}.")
        String paramsTopic;

        @Option(names = "--host", defaultValue = Settings.DEFAULT_HOST,
                description = "Address to listen on. Default: ${DEFAULT-VALUE} (this machine only).")
        String host;

        @Option(names = "--port", defaultValue = "" + Settings.DEFAULT_PORT, description = "Default: ${DEFAULT-VALUE}.")
        int port;

        @Option(names = "--max-request-bytes", defaultValue = "" + Settings.DEFAULT_MAX_REQUEST_BYTES,
                description = "Larger requests get 413. Default: ${DEFAULT-VALUE}.")
        long maxRequestBytes;

        @Option(names = "--auth-token", paramLabel = "TOKEN", defaultValue = "${env:STREAMBELIEF_AUTH_TOKEN}",
                description = "Require 'Authorization: Bearer TOKEN' on every request but /healthz. Default: the "
                        + "STREAMBELIEF_AUTH_TOKEN environment variable (safer than the command line, which other "
                        + "users can see); none if unset.")
        String authToken;

        @Override
        public Integer call() throws Exception {
            ParentWatchdog.exitWhenParentDies();
            ModelServer server = ModelServer.start(new Settings(host, port, maxRequestBytes, 8,
                    authToken == null || authToken.isEmpty() ? null : authToken), bootstrapServers, paramsTopic);
            Runtime.getRuntime().addShutdownHook(new Thread(server::close, "stop-model-server"));
            LOG.info("Serving on http://{}:{} ({} from {})", host, server.port(), paramsTopic, bootstrapServers);
            System.out.println("Serving on http://" + host + ":" + server.port() + " (" + paramsTopic + " from "
                    + bootstrapServers + ")");
            Thread.currentThread().join();
            return 0;
        }
    }

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new ServeCommand());
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("model-server: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        });
        System.exit(commandLine.execute(args));
    }
}
