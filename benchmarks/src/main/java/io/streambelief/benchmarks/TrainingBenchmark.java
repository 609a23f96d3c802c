package io.streambelief.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import io.streambelief.flink.TrainingConfig;
import io.streambelief.flink.local.LocalDeployment;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.serving.ModelClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Streams Fashion-MNIST's training split once through the whole system — broker, training job
 * on a MiniCluster with RocksDB and checkpoints, model server — and measures how fast it trains
 * and how accurate the served model is, next to plain DL4J {@code fit} on the same model, data,
 * order, batch size and updater, measured in the same run on the same machine.
 */
@Command(name = "training", mixinStandardHelpOptions = true,
        description = "Training throughput and served accuracy of the pipeline against plain single-process DL4J.")
public final class TrainingBenchmark implements Callable<Integer> {
    private static final long SEED = 42;

    @Option(names = "--workers", split = ",", paramLabel = "W[,W...]", defaultValue = "1,2",
            description = "Worker counts to run the pipeline with. Default: ${DEFAULT-VALUE}.")
    List<Integer> workerCounts;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "0",
            description = "Train on the first N examples of the shuffled training split (0: all). Default: all.")
    int examples;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "benchmarks/target/work",
            description = "Scratch directory for brokers and checkpoints; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        FashionMnist.Splits splits = FashionMnist.read();
        ExampleSet train = splits.train().shuffled(SEED);
        if (examples > 0) {
            train = train.take(examples);
        }
        ExampleSet test = splits.test();
        TrainingConfig defaults = TrainingConfig.builder("unused").seed(SEED).build();
        ModelSpec spec = defaults.spec();
        Optimizer optimizer = defaults.optimizer();
        int batch = defaults.batchSize();
        System.out.printf(Locale.ROOT, "Training benchmark: %s, %s, batch %d, %,d training images once, %,d test "
                + "images; %d cores, OMP_NUM_THREADS=%s%n", spec.source(), optimizer, batch, train.size(),
                test.size(), Runtime.getRuntime().availableProcessors(), System.getenv("OMP_NUM_THREADS"));

        // The JIT and ND4J's native code warm up outside the timing; the faster of two timed passes
        // counts, so the baseline is given its best.
        Dl4jBaseline.train(spec, optimizer, train.take(10_000).examples(), batch);
        MultiLayerNetwork plain = null;
        double plainSeconds = Double.MAX_VALUE;
        for (int attempt = 0; attempt < 2; attempt++) {
            long start = System.nanoTime();
            plain = Dl4jBaseline.train(spec, optimizer, train.examples(), batch);
            plainSeconds = Math.min(plainSeconds, (System.nanoTime() - start) / 1e9);
        }
        double plainRate = train.size() / plainSeconds;
        double plainAccuracy = Dl4jBaseline.accuracy(plain, spec, test.examples());
        String plainLine = String.format(Locale.ROOT, "plain DL4J fit, 1 process: %,7.0f ex/s (%.1f s); test accuracy "
                + "%.2f%%", plainRate, plainSeconds, 100 * plainAccuracy);
        System.out.println(plainLine);

        List<String> summary = new ArrayList<>();
        for (int workers : workerCounts) {
            Run run = runPipeline(workers, train, test);
            String line = String.format(Locale.ROOT, "pipeline, W=%d workers:  %,7.0f ex/s (%.1f s, %.2fx plain DL4J); "
                    + "served accuracy %.2f%% (latest parameters %.2f%%)", workers, run.rate(), run.seconds(),
                    run.rate() / plainRate, 100 * run.servedAccuracy(), 100 * run.latestAccuracy());
            System.out.println(line);
            summary.add(line);
        }
        System.out.println();
        System.out.println("Summary (examples/s: examples fed / seconds until the served model includes them all)");
        System.out.println(plainLine);
        summary.forEach(System.out::println);
        return 0;
    }

    /**
     * @param seconds from the first example fed to the served model including the last one: the
     *     job's start-up is excluded (it runs before feeding starts), its ramp-up is not
     */
    record Run(int examples, double seconds, double servedAccuracy, double latestAccuracy) {
        double rate() {
            return examples / seconds;
        }
    }

    private Run runPipeline(int workers, ExampleSet train, ExampleSet test) throws Exception {
        Path work = emptied(workDir.resolve("w" + workers));
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(workers).seed(SEED).build())) {
            TrainingConfig config = deployment.config();
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            long start = System.nanoTime();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(train.examples(), 1, n -> {});
            }
            client.awaitExamplesTrained(train.size(), Duration.ofMinutes(20));
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Run(train.size(), seconds, client.accuracy(test.examples(), null),
                    client.accuracy(test.examples(), "latest"));
        }
    }

    private static Path emptied(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        return Files.createDirectories(dir);
    }
}
