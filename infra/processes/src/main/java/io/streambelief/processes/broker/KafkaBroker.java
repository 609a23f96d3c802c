package io.streambelief.processes.broker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.processes.ChildJvm;
import io.streambelief.processes.LoopbackPort;
import io.streambelief.processes.ProjectHome;

/**
 * A real Kafka broker (KRaft, broker and controller in one node) in a child JVM, with its data
 * in a directory of ours. Starting on a directory that already holds a broker's data reuses it:
 * same cluster id, same ports, same topics and records — which is how a broker restart is tested.
 *
 * <p>Everything listens on 127.0.0.1 only.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);
    /** Where the broker-runtime module writes the broker's classpath. */
    public static final String CLASSPATH_FILE = "infra/broker-runtime/target/broker-classpath.txt";
    /** System property naming a broker classpath file, overriding {@link #CLASSPATH_FILE}. */
    public static final String CLASSPATH_PROPERTY = "streambelief.broker.classpath";

    private static final String IDENTITY_FILE = "streambelief-broker.properties";

    private final Path dataDir;
    private final int port;
    private final ChildJvm jvm;

    private KafkaBroker(Path dataDir, int port, ChildJvm jvm) {
        this.dataDir = dataDir;
        this.port = port;
        this.jvm = jvm;
    }

    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    /** {@code host:port} for clients. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public boolean isAlive() {
        return jvm.isAlive();
    }

    public long pid() {
        return jvm.pid();
    }

    /** Kills the broker at once (SIGKILL), as a crash would. {@link Builder#start()} on the same directory restarts it. */
    public void kill() {
        jvm.kill();
    }

    /** Stops the broker cleanly (it flushes and closes its logs). */
    @Override
    public void close() {
        jvm.close();
    }

    /** Options of a broker; defaults are for a single developer machine. */
    public static final class Builder {
        private final Path dataDir;
        private int port;
        private int heapMegabytes = 512;
        private Duration startTimeout = Duration.ofSeconds(90);
        private List<String> classpath;

        private Builder(Path dataDir) {
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath().normalize();
        }

        /** Client port; 0 (the default) picks a free one. A reused directory keeps the port it had. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /** Maximum heap of the broker JVM (default 512 MiB). */
        public Builder heapMegabytes(int megabytes) {
            this.heapMegabytes = megabytes;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** The broker JVM's classpath; by default read from the broker-runtime module's build output. */
        public Builder classpath(List<String> classpath) {
            this.classpath = List.copyOf(classpath);
            return this;
        }

        /** Starts the broker and waits until it answers clients. */
        public KafkaBroker start() throws IOException, InterruptedException {
            Files.createDirectories(dataDir);
            Identity identity = Identity.loadOrCreate(dataDir, port);
            Path config = dataDir.resolve("server.properties");
            Files.writeString(config, serverProperties(identity), StandardCharsets.UTF_8);
            Path log4j = dataDir.resolve("log4j2.properties");
            Files.writeString(log4j, LOG4J_CONFIG, StandardCharsets.UTF_8);

            List<String> cp = new ArrayList<>(classpath != null ? classpath : defaultClasspath());
            cp.add(ownCodeLocation());
            List<String> jvmOptions = List.of("-Xmx" + heapMegabytes + "m", "-Xms128m", "-XX:+UseG1GC",
                    "-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + log4j.toUri());
            ChildJvm jvm = ChildJvm.start("kafka-broker", cp, jvmOptions, BrokerProcess.class.getName(),
                    List.of(config.toString(), identity.clusterId()), Map.of(), dataDir.resolve("broker.log"));
            KafkaBroker broker = new KafkaBroker(dataDir, identity.port(), jvm);
            try {
                broker.awaitReady(startTimeout);
            } catch (IOException | InterruptedException | RuntimeException e) {
                jvm.kill();
                throw e;
            }
            LOG.info("Kafka broker ready at {} (data in {})", broker.bootstrapServers(), dataDir);
            return broker;
        }

        private String serverProperties(Identity id) {
            String listeners = "PLAINTEXT://127.0.0.1:" + id.port() + ",CONTROLLER://127.0.0.1:" + id.controllerPort();
            return String.join("\n",
                    "# Written by Streambelief's KafkaBroker on every start; edit the code, not this file.",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.bootstrap.servers=127.0.0.1:" + id.controllerPort(),
                    "listeners=" + listeners,
                    "advertised.listeners=" + listeners,
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    "log.dirs=" + dataDir.resolve("kraft-logs"),
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    // No broker-wide record limit: every topic carries its own max.message.bytes
                    // (kafka-connectors' Topics), as it must on a user's broker too.
                    // Compaction of model-params must run on a single small machine too.
                    "log.cleaner.threads=1",
                    "log.cleaner.dedupe.buffer.size=33554432",
                    "");
        }

        private static List<String> defaultClasspath() throws IOException {
            String override = System.getProperty(CLASSPATH_PROPERTY);
            Path file = override != null ? Path.of(override)
                    : ProjectHome.buildOutput(CLASSPATH_FILE, "The Kafka broker's classpath");
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new IllegalStateException("The Kafka broker's classpath in " + file + " is empty; rebuild the project");
            }
            return List.of(text.split(java.io.File.pathSeparator));
        }

        /** The broker JVM runs {@link BrokerProcess} from wherever this class was loaded. */
        private static String ownCodeLocation() {
            try {
                return Path.of(BrokerProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "2000");
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!jvm.isAlive()) {
                    throw new IOException("The Kafka broker exited during start-up (log: " + jvm.logFile() + "):\n"
                            + jvm.logTail(40));
                }
                try {
                    if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("The Kafka broker did not become ready within " + timeout.toSeconds()
                            + " s (log: " + jvm.logFile() + "):\n" + jvm.logTail(40));
                }
                Thread.sleep(200);
            }
        }
    }

    /** What must stay the same across restarts on one data directory. */
    private record Identity(String clusterId, int port, int controllerPort) {

        static Identity loadOrCreate(Path dataDir, int requestedPort) throws IOException {
            Path file = dataDir.resolve(IDENTITY_FILE);
            if (Files.isRegularFile(file)) {
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(file)) {
                    p.load(in);
                }
                Identity identity = new Identity(p.getProperty("cluster.id"), Integer.parseInt(p.getProperty("port")),
                        Integer.parseInt(p.getProperty("controller.port")));
                if (requestedPort != 0 && requestedPort != identity.port()) {
                    throw new IllegalArgumentException("The broker data in " + dataDir + " belongs to a broker on port "
                            + identity.port() + ", not " + requestedPort + "; use that port or another directory");
                }
                return identity;
            }
            Identity identity = new Identity(Uuid.randomUuid().toString(),
                    LoopbackPort.orFree(requestedPort), LoopbackPort.free());
            Properties p = new Properties();
            p.setProperty("cluster.id", identity.clusterId());
            p.setProperty("port", Integer.toString(identity.port()));
            p.setProperty("controller.port", Integer.toString(identity.controllerPort()));
            try (OutputStream out = Files.newOutputStream(file)) {
                p.store(out, "Identity of the embedded Kafka broker whose data is in this directory");
            }
            return identity;
        }
    }

    private static final String LOG4J_CONFIG = String.join("\n",
            "rootLogger.level = WARN",
            "rootLogger.appenderRef.console.ref = console",
            "logger.kafka.name = kafka.server",
            "logger.kafka.level = INFO",
            "logger.main.name = kafka.Kafka",
            "logger.main.level = INFO",
            "appender.console.type = Console",
            "appender.console.name = console",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = [%d] %p %m (%c)%n",
            "");
}
