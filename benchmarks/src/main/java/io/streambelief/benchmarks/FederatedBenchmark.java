package io.streambelief.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.flink.util.FileUtils;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import io.streambelief.federated.LocalTraining;
import io.streambelief.flink.config.Federation;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.launcher.federated.FederatedSimulation;
import io.streambelief.launcher.local.LocalDeployment;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.federated.ClientSampling;
import io.streambelief.model.federated.RdpAccountant;
import io.streambelief.model.federated.ServerOptimizer;
import io.streambelief.model.optimizer.Optimizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Federated learning against centralised training: Fashion-MNIST's training split over simulated
 * clients (Dirichlet α over labels), some slow, some dropping out, trained through the real system
 * (broker, the aggregating job on a MiniCluster) with FedAvg and with FedBuff for the same wall
 * time each, and plain DL4J on the union of the data with the same model. A third run adds central
 * DP noise and prints its ε. Time-to-accuracy is read off each run's curve of the global model's
 * test accuracy (a three-point moving average, as single points jump with non-IID rounds).
 */
@Command(name = "federated", mixinStandardHelpOptions = true,
        description = "FedAvg and FedBuff with stragglers and dropouts against centralised plain DL4J.")
public final class FederatedBenchmark implements Callable<Integer> {
    private static final long SEED = 42;

    @Option(names = "--clients", defaultValue = "100", description = "Client population. Default: ${DEFAULT-VALUE}.")
    int clients;

    @Option(names = "--per-round", defaultValue = "10",
            description = "FedAvg: clients sampled per round; FedBuff: clients training at once. Default: ${DEFAULT-VALUE}.")
    int perRound;

    @Option(names = "--alpha", defaultValue = "0.5", description = "Dirichlet alpha of the label split. Default: ${DEFAULT-VALUE}.")
    double alpha;

    @Option(names = "--buffer-size", defaultValue = "5", description = "FedBuff's K. Default: ${DEFAULT-VALUE}.")
    int bufferSize;

    @Option(names = "--minutes", defaultValue = "4", description = "Wall time of each federated run. Default: ${DEFAULT-VALUE}.")
    double minutes;

    @Option(names = "--dp-minutes", defaultValue = "2", description = "Wall time of the DP run (0: none). Default: ${DEFAULT-VALUE}.")
    double dpMinutes;

    @Option(names = "--noise-multiplier", defaultValue = "1.0", description = "The DP run's z. Default: ${DEFAULT-VALUE}.")
    double noiseMultiplier;

    @Option(names = "--dp-clip-norm", defaultValue = "1.0", description = "The DP run's clipping norm C. Default: ${DEFAULT-VALUE}.")
    double dpClipNorm;

    @Option(names = "--central-epochs", defaultValue = "3",
            description = "Passes of plain DL4J over the union of the data. Default: ${DEFAULT-VALUE}.")
    int centralEpochs;

    @Option(names = "--work-dir", defaultValue = "benchmarks/target/work/federated",
            description = "Scratch directory; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        FashionMnist.Splits splits = FashionMnist.read();
        ExampleSet train = splits.train().shuffled(SEED);
        ExampleSet test = splits.test();
        FederatedSimulation.Settings simulation = new FederatedSimulation.Settings(clients, perRound, alpha,
                LocalTraining.Settings.DEFAULTS, Duration.ofMillis(500), 0.3, 5, 0.1, 2, SEED);
        ModelSpec spec = ModelSpec.parse(ModelSpec.DEFAULT, SEED);
        System.out.printf(Locale.ROOT, "Fashion-MNIST over %d clients (Dirichlet alpha %s), %d per round, 30%% stragglers "
                + "at 5x a %d ms client round, 10%% dropping out; model %s; local: %s%n", clients, alpha, perRound,
                simulation.clientTime().toMillis(), spec, simulation.training());

        Duration budget = Duration.ofMillis((long) (minutes * 60_000));
        Run fedavg = run("fedavg", TrainingMode.FEDAVG, federation(simulation, 0, LocalTraining.Settings.DEFAULTS.clipNorm()),
                simulation, spec, train, test, budget);
        Run fedbuff = run("fedbuff", TrainingMode.FEDBUFF, federation(simulation, 0, LocalTraining.Settings.DEFAULTS.clipNorm()),
                simulation, spec, train, test, budget);
        if (dpMinutes > 0) {
            FederatedSimulation.Settings clipped = new FederatedSimulation.Settings(clients, perRound, alpha,
                    new LocalTraining.Settings(1, 32, LocalTraining.Settings.DEFAULTS.optimizer(), dpClipNorm),
                    simulation.clientTime(), simulation.stragglers(), simulation.slowdown(), simulation.dropouts(),
                    simulation.trainers(), SEED);
            Run dp = run("fedavg-dp", TrainingMode.FEDAVG, federation(simulation, noiseMultiplier, dpClipNorm), clipped,
                    spec, train, test, Duration.ofMillis((long) (dpMinutes * 60_000)));
            double epsilon = new RdpAccountant(noiseMultiplier, (double) perRound / clients)
                    .epsilon(dp.last().version(), Federation.DEFAULT_DELTA);
            System.out.printf(Locale.ROOT, "fedavg with central DP (z=%s, C=%s): accuracy %.4f after %d rounds, "
                    + "(epsilon, delta) = (%.2f, %s)%n", noiseMultiplier, dpClipNorm, dp.smoothedFinal(),
                    dp.last().version(), epsilon, Federation.DEFAULT_DELTA);
        }

        long start = System.nanoTime();
        MultiLayerNetwork central = Dl4jBaseline.train(spec, Optimizer.parse(Optimizer.DEFAULT), train.examples(), 32);
        for (int epoch = 1; epoch < centralEpochs; epoch++) {
            Dl4jBaseline.fit(central, spec, train.shuffled(SEED + epoch).examples(), 32);
        }
        double centralAccuracy = Dl4jBaseline.accuracy(central, spec, test.examples());
        System.out.printf(Locale.ROOT, "central plain DL4J (%s, batch 32, %d epochs over the union): accuracy %.4f in %.1f s%n",
                Optimizer.DEFAULT, centralEpochs, centralAccuracy, (System.nanoTime() - start) / 1e9);

        double target = Math.min(fedavg.smoothedFinal(), fedbuff.smoothedFinal());
        double fedavgTime = fedavg.secondsTo(target);
        double fedbuffTime = fedbuff.secondsTo(target);
        System.out.printf(Locale.ROOT, "time to accuracy %.4f (the lower run's final): fedavg %.1f s, fedbuff %.1f s%n",
                target, fedavgTime, fedbuffTime);
        System.out.printf(Locale.ROOT, "fedavg_accuracy=%.4f fedbuff_accuracy=%.4f central_accuracy=%.4f rounds=%d "
                + "bytes_per_client_round=%d fedbuff_speedup=%.2f%n", fedavg.smoothedFinal(), fedbuff.smoothedFinal(),
                centralAccuracy, fedavg.last().version(), fedavg.last().bytesSent() / Math.max(1, fedavg.last().updatesSent()),
                fedavgTime / fedbuffTime);
        return 0;
    }

    private Federation federation(FederatedSimulation.Settings simulation, double noise, double clipNorm) {
        return new Federation(new ClientSampling(clients, perRound, SEED), 2, simulation.roundDeadline(), bufferSize,
                Federation.DEFAULT_MAX_STALENESS, ServerOptimizer.parse("fedavg"), noise, clipNorm, Federation.DEFAULT_DELTA);
    }

    private Run run(String name, TrainingMode mode, Federation federation, FederatedSimulation.Settings simulation,
            ModelSpec spec, ExampleSet train, ExampleSet test, Duration budget) throws Exception {
        Path work = workDir.resolve(name);
        if (Files.exists(work)) {
            FileUtils.deleteDirectory(work.toFile());
        }
        System.out.printf(Locale.ROOT, "%s for %.1f minutes:%n", name, budget.toSeconds() / 60.0);
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work).withoutServing(),
                bootstrap -> TrainingConfig.builder(bootstrap).mode(mode).spec(spec).seed(SEED).federation(federation)
                        .build());
                FederatedSimulation clients = new FederatedSimulation(simulation, deployment.config(), train.examples(),
                        test.examples(), System.out)) {
            return new Run(clients.run(Long.MAX_VALUE, budget));
        }
    }

    /** One run's curve of test accuracy. */
    private record Run(List<FederatedSimulation.Point> points) {
        FederatedSimulation.Point last() {
            return points.get(points.size() - 1);
        }

        /** The mean of the last three points' accuracy. */
        double smoothedFinal() {
            return smoothed().get(points.size() - 1);
        }

        /** Seconds until the three-point moving average first reached {@code accuracy}. */
        double secondsTo(double accuracy) {
            List<Double> smoothed = smoothed();
            for (int i = 0; i < points.size(); i++) {
                if (smoothed.get(i) >= accuracy) {
                    return points.get(i).seconds();
                }
            }
            return Double.NaN;
        }

        private List<Double> smoothed() {
            List<Double> smoothed = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                double sum = 0;
                int n = 0;
                for (int j = Math.max(0, i - 2); j <= i; j++) {
                    sum += points.get(j).accuracy();
                    n++;
                }
                smoothed.add(sum / n);
            }
            return smoothed;
        }
    }
}
