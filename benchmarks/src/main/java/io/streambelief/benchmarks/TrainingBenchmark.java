package io.streambelief.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import io.streambelief.flink.TrainingConfig;
import io.streambelief.flink.TrainingMode;
import io.streambelief.flink.TrainingOptions;
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
            description = "Worker counts to run each mode with. Default: ${DEFAULT-VALUE}.")
    List<Integer> workerCounts;

    @Option(names = "--modes", split = ",", paramLabel = "MODE[,MODE...]", defaultValue = "async,ssp,bsp",
            converter = TrainingOptions.ModeConverter.class,
            description = "Training modes to run the pipeline in. Default: ${DEFAULT-VALUE}.")
    List<TrainingMode> modes;

    @Option(names = "--staleness", paramLabel = "S", defaultValue = "4", description = "SSP's bound. Default: 4.")
    int staleness;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "0",
            description = "Train on the first N examples of the shuffled training split (0: all). Default: all.")
    int examples;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "benchmarks/target/work",
            description = "Scratch directory for brokers and checkpoints; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Option(names = "--target", paramLabel = "ACCURACY", defaultValue = "0.85",
            description = "Test accuracy whose first reaching is timed. Default: ${DEFAULT-VALUE}.")
    double target;

    @Option(names = "--eval-every", paramLabel = "EXAMPLES", defaultValue = "5000",
            description = "Plain DL4J is evaluated on the test split after every this many examples (the pipeline's "
                    + "served model every 3 s). Default: ${DEFAULT-VALUE}.")
    int evalEvery;

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
                + "images, target accuracy %.0f%%; %d cores, OMP_NUM_THREADS=%s%n", spec.source(), optimizer, batch,
                train.size(), test.size(), 100 * target, Runtime.getRuntime().availableProcessors(),
                System.getenv("OMP_NUM_THREADS"));

        Run plain = runPlain(spec, optimizer, batch, train, test);
        System.out.println(plain.line("plain DL4J fit, 1 process", plain));
        List<Run> runs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (TrainingMode mode : modes) {
            for (int workers : workerCounts) {
                String name = "pipeline " + (mode == TrainingMode.SSP ? "ssp(s=" + staleness + ")" : mode) + ", W="
                        + workers;
                Run run = runPipeline(mode, workers, train, test);
                System.out.println(run.line(name, plain));
                runs.add(run);
                names.add(name);
            }
        }

        System.out.println();
        System.out.println("Summary (examples/s: examples / seconds until the model includes them all; time to "
                + String.format(Locale.ROOT, "%.0f%%", 100 * target) + ": until its test accuracy first reached it)");
        System.out.println(plain.line("plain DL4J fit, 1 process", plain));
        for (int i = 0; i < runs.size(); i++) {
            System.out.println(runs.get(i).line(names.get(i), plain));
        }
        double bestRate = runs.stream().mapToDouble(Run::rate).max().orElse(Double.NaN);
        double bestTime = runs.stream().mapToDouble(Run::secondsToTarget).filter(Double::isFinite).min()
                .orElse(Double.NaN);
        System.out.printf(Locale.ROOT, "throughput_ratio=%.3f time_to_accuracy_ratio=%.3f%n", bestRate / plain.rate(),
                bestTime / plain.secondsToTarget());
        return 0;
    }

    /**
     * @param seconds until the model includes every example (for the pipeline: from the first
     *     example fed; the job's start-up runs before and is excluded, its ramp-up is not)
     * @param secondsToTarget until its test accuracy was first seen at or above the target
     *     (infinite if never)
     * @param accuracy final test accuracy (the pipeline: served, averaged parameters)
     * @param latestAccuracy the pipeline's latest parameters (NaN for plain DL4J)
     */
    record Run(int examples, double seconds, double secondsToTarget, double accuracy, double latestAccuracy) {
        double rate() {
            return examples / seconds;
        }

        String line(String name, Run plain) {
            String latest = Double.isNaN(latestAccuracy) ? ""
                    : String.format(Locale.ROOT, " (latest parameters %.2f%%)", 100 * latestAccuracy);
            return String.format(Locale.ROOT, "%-26s %,7.0f ex/s (%5.1f s, %.2fx) | to target %s | accuracy %.2f%%%s",
                    name, rate(), seconds, rate() / plain.rate(), Double.isFinite(secondsToTarget)
                            ? String.format(Locale.ROOT, "%5.1f s (%.2fx)", secondsToTarget,
                                    secondsToTarget / plain.secondsToTarget())
                            : "never", 100 * accuracy, latest);
        }
    }

    /**
     * Plain DL4J, timed while it trains only: it is evaluated every {@code evalEvery} examples
     * with the clock stopped. The JIT and ND4J's native code warm up first, outside the timing.
     */
    private Run runPlain(ModelSpec spec, Optimizer optimizer, int batch, ExampleSet train, ExampleSet test) {
        Dl4jBaseline.train(spec, optimizer, train.take(10_000).examples(), batch);
        MultiLayerNetwork network = new MultiLayerNetwork(spec.configuration(optimizer.toDl4jUpdater()));
        network.init();
        long trainingNanos = 0;
        double secondsToTarget = Double.POSITIVE_INFINITY;
        double accuracy = 0;
        int chunk = Math.max(batch, evalEvery / batch * batch);
        for (int from = 0; from < train.size(); from += chunk) {
            long start = System.nanoTime();
            Dl4jBaseline.fit(network, spec, train.examples().subList(from, Math.min(from + chunk, train.size())), batch);
            trainingNanos += System.nanoTime() - start;
            accuracy = Dl4jBaseline.accuracy(network, spec, test.examples());
            if (accuracy >= target && secondsToTarget == Double.POSITIVE_INFINITY) {
                secondsToTarget = trainingNanos / 1e9;
            }
        }
        return new Run(train.size(), trainingNanos / 1e9, secondsToTarget, accuracy, Double.NaN);
    }

    private Run runPipeline(TrainingMode mode, int workers, ExampleSet train, ExampleSet test) throws Exception {
        Path work = Bench.emptied(workDir.resolve(mode + "-w" + workers));
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).workers(workers).seed(SEED).mode(mode)
                        .stalenessBound(staleness).build())) {
            TrainingConfig config = deployment.config();
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            long start = System.nanoTime();
            Thread feeding = new Thread(() -> {
                try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                        config.topics().examples(), ExampleFormat.BINARY)) {
                    feeder.feed(train.examples(), 1, n -> {});
                } catch (Exception e) {
                    throw new IllegalStateException("Feeding failed", e);
                }
            }, "feeder");
            feeding.start();
            double secondsToTarget = Double.POSITIVE_INFINITY;
            double seconds = Double.NaN;
            long deadline = start + Duration.ofMinutes(20).toNanos();
            while (Double.isNaN(seconds)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("The pipeline did not train all examples within 20 minutes");
                }
                Thread.sleep(3_000);
                long trained = client.status().map(ModelClient.Status::examplesTrained).orElse(0L);
                double elapsed = (System.nanoTime() - start) / 1e9;
                if (trained == train.size()) {
                    seconds = elapsed;
                }
                if (trained > 0 && secondsToTarget == Double.POSITIVE_INFINITY
                        && client.accuracy(test.examples(), null) >= target) {
                    secondsToTarget = elapsed;
                }
            }
            feeding.join();
            return new Run(train.size(), seconds, secondsToTarget, client.accuracy(test.examples(), null),
                    client.accuracy(test.examples(), "latest"));
        }
    }
}
