package io.streambelief.launcher.federated;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.streambelief.federated.GlobalModel;
import io.streambelief.federated.GlobalModelReader;
import io.streambelief.federated.LocalTraining;
import io.streambelief.federated.UpdateSender;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.model.Example;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.federated.ClientSampling;
import io.streambelief.model.federated.RdpAccountant;
import io.streambelief.model.record.ModelUpdate;

/**
 * Simulated federated clients against a running training job in a federated mode: the training
 * data split over the clients non-IID (Dirichlet α over labels), each client's examples private to
 * it, some clients slow (stragglers: their round takes {@code slowdown} times as long) and some of
 * every round's clients dropping out (they train nothing and send nothing). Clients use the client
 * library's parts — the global model from model-params, {@link LocalTraining}, {@link UpdateSender}
 * — and the global model's accuracy on the test set is reported as it changes.
 *
 * <p>A client's time is simulated: it sends its update {@code clientTime} (or {@code slowdown}
 * times that) after it read the model, or as soon as its training is done if that takes longer,
 * so that the run's time measures the protocol and not this machine's cores.
 */
public final class FederatedSimulation implements AutoCloseable {

    /**
     * @param clients the population, client-0 .. client-(N-1)
     * @param perRound FedAvg: the clients each round samples; FedBuff: the clients training at any time
     * @param alpha the Dirichlet concentration of the label split
     * @param clientTime how long a normal client's local training takes, simulated
     * @param stragglers the fraction of clients that are slow
     * @param dropouts the chance that a client asked to train drops out
     * @param trainers threads training clients at the same time in this process
     */
    public record Settings(int clients, int perRound, double alpha, LocalTraining.Settings training,
            Duration clientTime, double stragglers, double slowdown, double dropouts, int trainers, long seed) {

        public static Settings defaults(int clients) {
            return new Settings(clients, Math.min(10, clients), 0.5, LocalTraining.Settings.DEFAULTS,
                    Duration.ofMillis(500), 0.3, 5, 0.1, 2, 42);
        }

        /** A FedAvg round's deadline that lets stragglers in: their time and one normal client's more. */
        public Duration roundDeadline() {
            return Duration.ofMillis((long) (clientTime.toMillis() * (slowdown + 1)));
        }
    }

    /** The global model at one moment of the run. */
    public record Point(double seconds, long version, double accuracy, long updatesSent, long bytesSent,
            long dropouts) {}

    private final Settings settings;
    private final TrainingConfig config;
    private final List<List<Example>> data;
    private final List<Example> test;
    private final boolean[] straggler;
    private final PrintStream progress;
    private final GlobalModelReader reader;
    private final UpdateSender sender;
    private final BlockingQueue<LocalTraining> trainers;
    private final List<GradientEngine> engines = new ArrayList<>();
    private final GradientEngine evaluator;
    private final ScheduledExecutorService clock;
    private final ExecutorService training;
    private final AtomicLong updatesSent = new AtomicLong();
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong dropouts = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The point of the last progress line. */
    private Point reported = new Point(0, 0, 0, 0, 0, 0);

    public FederatedSimulation(Settings settings, TrainingConfig config, List<Example> train, List<Example> test,
            PrintStream progress) {
        if (!config.mode().isFederated()) {
            throw new IllegalArgumentException("Simulated clients need the job in a federated mode, not " + config.mode());
        }
        if (config.mode() == TrainingMode.FEDAVG && config.federation().sampling().population() != settings.clients()) {
            throw new IllegalArgumentException("The job samples from " + config.federation().sampling().population()
                    + " clients but " + settings.clients() + " are simulated: start it with --clients "
                    + settings.clients());
        }
        this.settings = settings;
        this.config = config;
        this.data = DirichletSplit.split(train, settings.clients(), settings.alpha(), config.spec().numLabels(),
                settings.seed());
        this.test = test;
        this.progress = progress;
        SplittableRandom random = new SplittableRandom(settings.seed());
        this.straggler = new boolean[settings.clients()];
        for (int c = 0; c < straggler.length; c++) {
            straggler[c] = random.nextDouble() < settings.stragglers();
        }
        this.reader = new GlobalModelReader(config.bootstrapServers(), config.topics().modelParams(), config.modelId(),
                config.spec(), config.shardSize());
        this.sender = new UpdateSender(config.bootstrapServers(), config.topics().clientUpdates());
        this.trainers = new ArrayBlockingQueue<>(settings.trainers());
        for (int t = 0; t < settings.trainers(); t++) {
            GradientEngine engine = new Dl4jGradientEngine(config.spec());
            engines.add(engine);
            trainers.add(new LocalTraining(settings.training(), config.spec().numInputs(), engine));
        }
        this.evaluator = new Dl4jGradientEngine(config.spec());
        this.clock = Executors.newScheduledThreadPool(1, daemon("client-clock"));
        this.training = Executors.newFixedThreadPool(settings.trainers(), daemon("client-training"));
    }

    /** Runs until the global model reaches {@code versions} or {@code budget} has passed; the model's accuracy as it went. */
    public List<Point> run(long versions, Duration budget) throws InterruptedException {
        long start = System.nanoTime();
        long end = start + budget.toNanos();
        List<Point> points = new ArrayList<>();
        GlobalModel model = reader.await(0, Duration.ofMinutes(1))
                .orElseThrow(() -> new IllegalStateException("No global model on " + config.topics().modelParams()));
        AtomicReference<GlobalModel> latest = new AtomicReference<>(model);
        points.add(point(start, model));
        report(points.get(0), 0);
        if (config.mode() == TrainingMode.FEDAVG) {
            startRound(model, start);
        } else {
            for (int slot = 0; slot < settings.perRound(); slot++) {
                startFedBuffClient(latest, new SplittableRandom(settings.seed() * 1_000 + slot));
            }
        }
        long lastEvaluation = System.nanoTime();
        while (model.version() < versions && System.nanoTime() < end) {
            checkFailure();
            Optional<GlobalModel> next = reader.await(model.version() + 1, Duration.ofMillis(500));
            if (next.isEmpty()) {
                continue;
            }
            model = next.get();
            latest.set(model);
            if (config.mode() == TrainingMode.FEDAVG) {
                startRound(model, System.nanoTime());
            }
            // FedBuff's versions come faster than the test set can be scored: one point every two seconds.
            if (config.mode() == TrainingMode.FEDAVG || System.nanoTime() - lastEvaluation > 2_000_000_000L
                    || model.version() >= versions) {
                Point point = point(start, model);
                points.add(point);
                report(point, model.version());
                lastEvaluation = System.nanoTime();
            }
        }
        return points;
    }

    /** FedAvg: the round's sampled clients train on the model that opened it. */
    private void startRound(GlobalModel model, long roundStart) {
        long round = model.version();
        Set<String> sampled = config.federation().sampling().sampled(round);
        for (String clientId : sampled) {
            int client = Integer.parseInt(clientId.substring(clientId.indexOf('-') + 1));
            SplittableRandom fate = new SplittableRandom(settings.seed() ^ (round * 1_000_003 + client));
            if (fate.nextDouble() < settings.dropouts()) {
                dropouts.incrementAndGet();
                continue;
            }
            train(client, model, round, roundStart);
        }
    }

    /** FedBuff: a slot trains one client after another, each from the newest model it can read. */
    private void startFedBuffClient(AtomicReference<GlobalModel> latest, SplittableRandom random) {
        int client = random.nextInt(settings.clients());
        long startedAt = System.nanoTime();
        if (random.nextDouble() < settings.dropouts()) {
            dropouts.incrementAndGet();
            clock.schedule(() -> startFedBuffClient(latest, random), timeOf(client), TimeUnit.NANOSECONDS);
            return;
        }
        train(client, latest.get(), -1, startedAt).thenRun(() -> startFedBuffClient(latest, random));
    }

    private CompletableFuture<Void> train(int client, GlobalModel model, long round, long startedAt) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        training.execute(() -> {
            try {
                LocalTraining trainer = trainers.take();
                float[] delta;
                try {
                    delta = trainer.delta(model.parameters(), data.get(client), settings.seed() * 31 + client + model.version());
                } finally {
                    trainers.add(trainer);
                }
                ModelUpdate update = new ModelUpdate(config.modelId(), ClientSampling.clientId(client), round,
                        model.version(), data.get(client).size(), System.currentTimeMillis(), delta);
                long wait = startedAt + timeOf(client) - System.nanoTime();
                clock.schedule(() -> {
                    try {
                        bytesSent.addAndGet(sender.send(update));
                        updatesSent.incrementAndGet();
                        sent.complete(null);
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                    }
                }, Math.max(0, wait), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                failure.compareAndSet(null, e);
            }
        });
        return sent;
    }

    private long timeOf(int client) {
        return (long) (settings.clientTime().toNanos() * (straggler[client] ? settings.slowdown() : 1));
    }

    private Point point(long start, GlobalModel model) {
        return new Point((System.nanoTime() - start) / 1e9, model.version(), accuracy(model.parameters()),
                updatesSent.get(), bytesSent.get(), dropouts.get());
    }

    /** The share of the test set the model classifies right. */
    private double accuracy(float[] parameters) {
        evaluator.setParameters(parameters);
        long correct = 0;
        for (int from = 0; from < test.size(); from += 1_000) {
            List<Example> batch = test.subList(from, Math.min(test.size(), from + 1_000));
            MiniBatch.Builder builder = MiniBatch.builder(batch.size(), config.spec().numInputs());
            batch.forEach(builder::add);
            correct += evaluator.step(builder.build()).correct();
        }
        return (double) correct / test.size();
    }

    private void report(Point point, long version) {
        String privacy = "";
        double z = config.federation().noiseMultiplier();
        if (z > 0 && version > 0) {
            double rate = config.mode() == TrainingMode.FEDAVG ? config.federation().sampling().rate() : 1;
            privacy = String.format(Locale.ROOT, ", (ε, δ) = (%.2f, %s)",
                    new RdpAccountant(z, rate).epsilon(version, config.federation().delta()), config.federation().delta());
        }
        progress.printf(Locale.ROOT, "  %6.1f s  %s %4d: test accuracy %.4f; %,d updates sent since the last line, "
                + "%,d clients dropped out (%,d updates in all)%s%n", point.seconds(),
                config.mode() == TrainingMode.FEDAVG ? "round  " : "version", version, point.accuracy(),
                point.updatesSent() - reported.updatesSent(), point.dropouts() - reported.dropouts(),
                point.updatesSent(), privacy);
        reported = point;
    }

    private void checkFailure() {
        Throwable failed = failure.get();
        if (failed != null) {
            throw new IllegalStateException("A simulated client failed: " + failed.getMessage(), failed);
        }
    }

    private static ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public void close() {
        clock.shutdownNow();
        training.shutdownNow();
        sender.close();
        reader.close();
        engines.forEach(GradientEngine::close);
        evaluator.close();
    }
}
