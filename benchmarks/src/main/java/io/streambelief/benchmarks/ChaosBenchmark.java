package io.streambelief.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.flink.api.common.JobID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.launcher.cluster.PublishedShards;
import io.streambelief.launcher.cluster.StandaloneCluster;
import io.streambelief.launcher.local.ServingProcess;
import io.streambelief.model.Example;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.processes.LoopbackPort;
import io.streambelief.processes.ProjectHome;
import io.streambelief.processes.broker.KafkaBroker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole system under a steady stream while things go wrong at random moments: a TaskManager
 * of the standalone cluster is killed (its supervisor starts another), the broker is killed and
 * restarted on its data, the model server is killed and restarted on its state directory, and
 * hostile records and requests arrive — each kind in turn, in a random order each round, every 30
 * to 60 s. A prober asks the model server for a prediction every
 * 100 ms throughout. At the end, once the stream has stopped and the model has caught up, every
 * shard's digest of the examples it applied must equal the digest of the examples fed.
 *
 * <p>Last line: {@code faults=<n> lost=<n> duplicated=<n> served_5xx=<n> version_regressions=<n>
 * job_restarts_from_input=<n>}; the goal is zeros but faults. A refused connection while the
 * server restarts is not a 5xx (it is counted on the line before).
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = "A chaos soak: a standalone cluster, the broker and the model server under a steady stream, "
                + "with faults and hostile input at random moments; checks exactly-once by digest and every answer.")
public final class ChaosBenchmark implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The job's default model id, which the prober asks for. */
    private static final String MODEL = TrainingConfig.builder("unused").build().modelId();

    @Option(names = "--minutes", paramLabel = "M", defaultValue = "10",
            description = "How long the stream and the faults go on. Default: ${DEFAULT-VALUE}.")
    double minutes;

    @Option(names = "--rate", paramLabel = "EXAMPLES_PER_S", defaultValue = "400",
            description = "The steady stream's rate. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(names = "--seed", defaultValue = "42", description = "Seeds the faults' moments and kinds. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "benchmarks/target/work/chaos",
            description = "Scratch directory; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    private final AtomicLong served5xx = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong regressions = new AtomicLong();
    private final AtomicLong hostileRequests = new AtomicLong();

    @Override
    public Integer call() throws Exception {
        Path work = Bench.emptied(workDir);
        List<Example> examples = FashionMnist.read().train().shuffled(seed).examples();
        Random random = new Random(seed);
        long t0 = System.nanoTime();
        int brokerPort = LoopbackPort.orFree(0);
        int servingPort = LoopbackPort.orFree(0);
        System.out.printf(Locale.ROOT, "Chaos soak: %.1f min at %d examples/s, W=2 on 2 TaskManagers; faults every "
                + "30-60 s (seed %d); %d cores%n", minutes, rate, seed, Runtime.getRuntime().availableProcessors());

        AtomicReference<KafkaBroker> broker = new AtomicReference<>(
                KafkaBroker.builder(work.resolve("kafka")).port(brokerPort).start());
        String bootstrap = broker.get().bootstrapServers();
        TrainingConfig config = TrainingConfig.builder(bootstrap).seed(seed).build();
        Path jobJar = ProjectHome.buildOutput(StandaloneCluster.JOB_JAR, "The job jar");
        ServingProcess serving = null;
        try (StandaloneCluster cluster = StandaloneCluster.builder(work.resolve("flink")).taskManagers(2)
                .slotsPerTaskManager(2).start()) {
            JobID job = cluster.submit(jobJar, TrainingJobCommand.class.getName(), List.of(
                    "--bootstrap-servers", bootstrap, "--seed", Long.toString(seed), "--checkpoint-interval", "2s"));
            awaitRunning(cluster, job);
            serving = ServingProcess.start(bootstrap, config.topics(), servingPort, work.resolve("serving-state"),
                    work.resolve("serving.log"), List.of("--grpc-port", "0"));
            URI server = serving.uri();
            System.out.printf(Locale.ROOT, "[%5.1f s] broker %s, cluster %s, job %s, model server %s%n", since(t0),
                    bootstrap, cluster.restAddress(), job, server);

            Feeder feeder = new Feeder(bootstrap, config.topics().examples(), examples, rate);
            Thread feeding = new Thread(feeder, "feeder");
            Thread probing = new Thread(() -> probe(server, examples.get(0)), "prober");
            probing.setDaemon(true);
            feeding.start();
            probing.start();

            long end = System.nanoTime() + (long) (minutes * 60e9);
            int faults = 0;
            List<Integer> kinds = new ArrayList<>(List.of(0, 1, 2, 3));
            long nextFault = System.nanoTime() + (30 + random.nextInt(31)) * 1_000_000_000L;
            while (System.nanoTime() < end) {
                Thread.sleep(500);
                if (System.nanoTime() < nextFault) {
                    continue;
                }
                nextFault = System.nanoTime() + (30 + random.nextInt(31)) * 1_000_000_000L;
                // Every kind of fault in turn, in a random order each round.
                if (faults % kinds.size() == 0) {
                    Collections.shuffle(kinds, random);
                }
                int kind = kinds.get(faults % kinds.size());
                faults++;
                switch (kind) {
                    case 0 -> {
                        StandaloneCluster.KilledTaskManager killed = cluster.killTaskManagerRunning(job);
                        report(t0, "killed TaskManager " + killed.resourceId() + " (pid " + killed.pid() + ")");
                    }
                    case 1 -> {
                        broker.get().kill();
                        report(t0, "killed the broker");
                        Thread.sleep(3_000);
                        broker.set(KafkaBroker.builder(work.resolve("kafka")).port(brokerPort).start());
                        report(t0, "restarted the broker");
                    }
                    case 2 -> {
                        serving.close();
                        report(t0, "stopped the model server");
                        serving = ServingProcess.start(bootstrap, config.topics(), servingPort,
                                work.resolve("serving-state"), work.resolve("serving-" + faults + ".log"),
                                List.of("--grpc-port", "0"));
                        report(t0, "restarted the model server");
                    }
                    default -> {
                        appendHostileRecords(bootstrap, config);
                        sendHostileRequests(server);
                        report(t0, "appended hostile records and sent hostile requests");
                    }
                }
            }
            feeder.stop();
            feeding.join();
            ExampleDigest fed = feeder.fed();
            report(t0, String.format(Locale.ROOT, "stopped feeding: %,d examples fed (%d sends failed)", fed.count(),
                    feeder.failed.get()));

            ExampleDigest applied = awaitApplied(config, fed, Duration.ofMinutes(5), t0);
            long restored = cluster.rest().checkpoints(job).restored();
            long failures = cluster.rest().failures(job).size();
            long lost = Math.max(0, fed.count() - applied.count());
            long duplicated = Math.max(0, applied.count() - fed.count());
            if (lost == 0 && duplicated == 0 && !applied.equals(fed)) {
                // Same number, other examples: at least one lost and one applied twice.
                lost = 1;
                duplicated = 1;
            }
            System.out.printf(Locale.ROOT, "%nFaults %d; job failures %d, restores from a checkpoint %d; prober: %,d "
                    + "answers, %,d refused connections (server restarting), %,d hostile requests sent%n", faults,
                    failures, restored, answered.get(), refused.get(), hostileRequests.get());
            System.out.printf(Locale.ROOT, "Digest of the examples fed %s; the shards' (fewest) %s%n", fed, applied);
            System.out.printf(Locale.ROOT, "faults=%d lost=%d duplicated=%d served_5xx=%d version_regressions=%d "
                    + "job_restarts_from_input=%d%n", faults, lost, duplicated, served5xx.get(), regressions.get(),
                    Math.max(0, failures - restored));
            return lost == 0 && duplicated == 0 && served5xx.get() == 0 && regressions.get() == 0 ? 0 : 1;
        } finally {
            if (serving != null) {
                serving.close();
            }
            broker.get().close();
        }
    }

    /** A steady stream of the examples, round after round, keeping the digest of what the broker acknowledged. */
    private static final class Feeder implements Runnable {
        private final KafkaProducer<byte[], byte[]> producer;
        private final String topic;
        private final List<Example> examples;
        private final int rate;
        private final AtomicReference<ExampleDigest> fed = new AtomicReference<>(ExampleDigest.EMPTY);
        final AtomicLong failed = new AtomicLong();
        private volatile boolean running = true;

        Feeder(String bootstrap, String topic, List<Example> examples, int rate) {
            this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1",
                    ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000"), new ByteArraySerializer(),
                    new ByteArraySerializer());
            this.topic = topic;
            this.examples = examples;
            this.rate = rate;
        }

        @Override
        public void run() {
            long start = System.nanoTime();
            for (long n = 0; running; n++) {
                long due = start + n * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                Example example = examples.get((int) (n % examples.size()));
                producer.send(new ProducerRecord<>(topic, ExampleFormat.BINARY.encode(example)), (metadata, e) -> {
                    if (e == null) {
                        fed.accumulateAndGet(ExampleDigest.of(example), ExampleDigest::plus);
                    } else {
                        failed.incrementAndGet();
                    }
                });
            }
            producer.flush();
            producer.close();
        }

        void stop() {
            running = false;
        }

        ExampleDigest fed() {
            return fed.get();
        }
    }

    /** Every 100 ms a prediction; counts 5xx answers and model versions going back. */
    private void probe(URI server, Example example) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        StringBuilder row = new StringBuilder("{\"instances\": [[");
        for (int i = 0; i < example.features().length; i++) {
            row.append(i == 0 ? "" : ",").append(example.features()[i]);
        }
        String body = row.append("]]}").toString();
        long highest = 0;
        while (true) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                        server.resolve("/v1/models/" + MODEL + ":predict"))
                        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                answered.incrementAndGet();
                if (response.statusCode() >= 500) {
                    served5xx.incrementAndGet();
                } else if (response.statusCode() == 200) {
                    long version = JSON.readTree(response.body()).path("model_version").asLong();
                    if (version < highest) {
                        regressions.incrementAndGet();
                    }
                    highest = Math.max(highest, version);
                }
                Thread.sleep(100);
            } catch (IOException e) {
                refused.incrementAndGet();
                sleepQuietly(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void sendHostileRequests(URI server) {
        HttpClient http = HttpClient.newHttpClient();
        String predict = "/v1/models/" + MODEL + ":predict";
        for (String body : List.of("{", "[]", "{\"instances\": [[1, 2]]}", "{\"instances\": [[NaN]]}",
                "{\"instances\": " + "[".repeat(5_000) + "}", "{\"instances\": [" + "[0],".repeat(20_000) + "[0]]}")) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.resolve(predict))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                hostileRequests.incrementAndGet();
                if (response.statusCode() >= 500) {
                    served5xx.incrementAndGet();
                }
            } catch (IOException | InterruptedException e) {
                refused.incrementAndGet();
            }
        }
    }

    private static void appendHostileRecords(String bootstrap, TrainingConfig config) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
            String model = config.modelId();
            float[] nan = new float[config.layout().length(0)];
            nan[1] = Float.NaN;
            byte[] shardKey = ModelIds.shardKey(model, 0).getBytes(StandardCharsets.UTF_8);
            List<ProducerRecord<byte[], byte[]>> records = List.of(
                    new ProducerRecord<>(config.topics().examples(), "not an example".getBytes(StandardCharsets.UTF_8)),
                    new ProducerRecord<>(config.topics().modelParamDeltas(), model.getBytes(StandardCharsets.UTF_8),
                            "garbage".getBytes(StandardCharsets.UTF_8)),
                    new ProducerRecord<>(config.topics().modelParams(), shardKey,
                            ParamUpdateCodec.encode(new ParamUpdate(model, 0, 1, 1, System.currentTimeMillis(), nan))),
                    new ProducerRecord<>(config.topics().modelParams(), shardKey, ParamUpdateCodec.encode(
                            new ParamUpdate(model, 0, 1, 1, System.currentTimeMillis() + Duration.ofDays(365).toMillis(),
                                    new float[config.layout().length(0)]))),
                    new ProducerRecord<>(config.topics().trainingMetrics(), "{".getBytes(StandardCharsets.UTF_8)));
            for (ProducerRecord<byte[], byte[]> record : records) {
                producer.send(record);
            }
            producer.flush();
        }
    }

    /** Waits until every shard holds as many examples as were fed (or the time is up); the shard with the fewest. */
    private static ExampleDigest awaitApplied(TrainingConfig config, ExampleDigest fed, Duration timeout, long t0) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (PublishedShards shards = new PublishedShards(config.bootstrapServers(), config.topics().modelParams(),
                config.modelId(), config.layout().shardCount())) {
            while (true) {
                shards.poll(Duration.ofSeconds(1));
                Map<Integer, ParamUpdate> latest = shards.latest();
                ExampleDigest fewest = latest.size() < config.layout().shardCount() ? ExampleDigest.EMPTY
                        : latest.values().stream().map(ParamUpdate::digest)
                                .min((a, b) -> Long.compare(a.count(), b.count())).orElse(ExampleDigest.EMPTY);
                boolean allEqual = latest.size() == config.layout().shardCount()
                        && latest.values().stream().allMatch(shard -> shard.digest().equals(fed));
                if (allEqual || System.nanoTime() > deadline) {
                    if (!allEqual) {
                        // The most different shard decides what is reported.
                        for (ParamUpdate shard : latest.values()) {
                            if (!shard.digest().equals(fed)) {
                                report(t0, "shard " + shard.shardId() + ": " + shard.digest());
                                return shard.digest();
                            }
                        }
                    }
                    return fewest;
                }
            }
        }
    }

    private static void awaitRunning(StandaloneCluster cluster, JobID job) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        String status;
        while (!(status = cluster.rest().jobStatus(job)).equals("RUNNING")) {
            if (System.nanoTime() > deadline || status.equals("FAILED")) {
                throw new IllegalStateException("The job did not start (status " + status + ")");
            }
            Thread.sleep(200);
        }
    }

    private static void report(long t0, String what) {
        System.out.printf(Locale.ROOT, "[%5.1f s] %s%n", since(t0), what);
    }

    private static double since(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
