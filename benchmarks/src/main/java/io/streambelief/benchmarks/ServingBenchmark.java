package io.streambelief.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.data.Flights;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.launcher.local.LocalDeployment;
import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.sparse.WideDeepSpec;
import io.streambelief.processes.LoopbackPort;
import io.streambelief.serving.ModelClient;
import io.streambelief.serving.tfserving.DataType;
import io.streambelief.serving.tfserving.PredictRequest;
import io.streambelief.serving.tfserving.PredictionServiceGrpc;
import io.streambelief.serving.tfserving.TensorProto;
import io.streambelief.serving.tfserving.TensorShapeProto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The model server under the whole system — broker, training job on a MiniCluster, serving
 * process — measured twice.
 *
 * <p><b>Freshness.</b> While the job trains on a steady stream of Fashion-MNIST images, some are
 * marked: the time just before each is appended to {@code examples} is noted with its ordinal n
 * (examples appended so far, itself included). The served model includes it once its
 * {@code examples_trained} (examples whose gradients are in every shard) reaches n; a poller asks
 * the server every 2 ms. With one worker (the default) this is exact: the one examples partition
 * is trained in order and every count is exactly-once. With several workers the partitions are
 * trained side by side, and the count can reach n while a lagging worker still holds the marked
 * example, by at most that lag.
 *
 * <p><b>Load.</b> Training idle, {@code --clients} threads on loopback each send single-row predict
 * requests (a real test image as JSON, one connection each) back to back for {@code --seconds}.
 * Plain DL4J answering the same rows in-process on one thread is measured in the same run for scale.
 */
@Command(name = "serving", mixinStandardHelpOptions = true,
        description = "Model freshness (append -> served model includes it) and serving throughput and latency.")
public final class ServingBenchmark implements Callable<Integer> {
    private static final long SEED = 42;

    @Option(names = "--workers", paramLabel = "W", defaultValue = "1",
            description = "Training workers (examples partitions). Freshness is exact with 1. Default: ${DEFAULT-VALUE}.")
    int workers;

    @Option(names = "--rate", paramLabel = "EXAMPLES/S", defaultValue = "500",
            description = "Examples appended per second while freshness is measured; keep it below what the job "
                    + "trains, or freshness measures the backlog. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(names = "--marked", paramLabel = "N", defaultValue = "300",
            description = "Marked examples whose freshness is measured (at least 200). Default: ${DEFAULT-VALUE}.")
    int marked;

    @Option(names = "--mark-every", paramLabel = "K", defaultValue = "10",
            description = "Every K-th example appended is marked. Default: ${DEFAULT-VALUE}.")
    int markEvery;

    @Option(names = "--warm-up", paramLabel = "N", defaultValue = "10000",
            description = "Examples trained before measuring, so the JIT and the model have settled. "
                    + "Default: ${DEFAULT-VALUE}.")
    int warmUp;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "16",
            description = "Concurrent clients in the load phase. Default: ${DEFAULT-VALUE}.")
    int clients;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "30",
            description = "Length of the load phase (after a 3 s warm-up). Default: ${DEFAULT-VALUE}.")
    int seconds;

    @Option(names = "--batch-timeout-micros", paramLabel = "MICROS", defaultValue = "0",
            description = "The model server's batching timeout (its option of the same name, with "
                    + "--batch-max-rows 128); 0: off, as a server starts by default. Default: ${DEFAULT-VALUE}.")
    long batchTimeoutMicros;

    @Option(names = "--sparse-chunks", paramLabel = "N", defaultValue = "20",
            description = "Chunks of 1,000 flights appended to a running wide & deep model to measure its freshness "
                    + "(0: skip). Default: ${DEFAULT-VALUE}.")
    int sparseChunks;

    @Option(names = "--sparse-rate", paramLabel = "EXAMPLES/S", defaultValue = "300",
            description = "Flights appended per second while the sparse model's freshness is measured. "
                    + "Default: ${DEFAULT-VALUE}.")
    int sparseRate;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "benchmarks/target/work/serving",
            description = "Scratch directory for the broker and checkpoints; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        if (marked < 200) {
            throw new IllegalArgumentException("--marked must be at least 200, got " + marked);
        }
        FashionMnist.Splits splits = FashionMnist.read();
        ExampleSet train = splits.train().shuffled(SEED);
        List<Example> rows = splits.test().examples().subList(0, 100);
        TrainingConfig defaults = TrainingConfig.builder("unused").seed(SEED).build();
        ModelSpec spec = defaults.spec();
        int needed = warmUp + marked * markEvery;
        if (needed > train.size()) {
            throw new IllegalArgumentException("--warm-up + --marked x --mark-every = " + needed
                    + " examples; the training split has " + train.size());
        }
        System.out.printf(Locale.ROOT, "Serving benchmark: %s, W=%d, %,d warm-up examples, then %d marked of %,d "
                + "appended at %,d/s; load: %d clients x %d s of single-row requests, batching timeout %,d us; %d cores, "
                + "OMP_NUM_THREADS=%s%n",
                spec.source(), workers, warmUp, marked, marked * markEvery, rate, clients, seconds, batchTimeoutMicros,
                Runtime.getRuntime().availableProcessors(), System.getenv("OMP_NUM_THREADS"));

        Latencies plain = null;
        for (int threads = 1; threads <= 2; threads++) {
            Latencies measured = plainDl4j(spec, rows, threads);
            System.out.println(measured.line("plain DL4J output, in-process, " + threads + " thread" + (threads > 1
                    ? "s" : "")));
            if (plain == null || measured.perSecond() > plain.perSecond()) {
                plain = measured;
            }
        }

        Path work = Bench.emptied(workDir.toAbsolutePath());
        String lastLine;
        int grpcPort = LoopbackPort.orFree(0);
        LocalDeployment.Settings settings = LocalDeployment.Settings.forTests(work)
                .withServingOptions(List.of("--batch-timeout-micros", Long.toString(batchTimeoutMicros),
                        "--grpc-port", Integer.toString(grpcPort)));
        try (LocalDeployment deployment = LocalDeployment.start(settings,
                bootstrap -> TrainingConfig.builder(bootstrap).workers(workers).seed(SEED).build())) {
            TrainingConfig config = deployment.config();
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                System.out.printf(Locale.ROOT, "Warming up on %,d examples...%n", warmUp);
                feed(feeder, train.examples().subList(0, warmUp), 0, null);
                client.awaitExamplesTrained(warmUp, Duration.ofMinutes(10));

                long[] freshness = measureFreshness(feeder, client, train.examples().subList(warmUp, needed));
                Arrays.sort(freshness);
                System.out.printf(Locale.ROOT, "freshness over %d marked examples: p50 %d ms, p90 %d ms, p99 %d ms, "
                        + "max %d ms%n", freshness.length, percentile(freshness, 0.50), percentile(freshness, 0.90),
                        percentile(freshness, 0.99), freshness[freshness.length - 1]);
                client.awaitExamplesTrained(needed, Duration.ofMinutes(2));

                Latencies served = load("HTTP", restClient(deployment.servingUri(), config.modelId(), rows));
                System.out.println(served.line(String.format(Locale.ROOT, "served over HTTP, %d clients", clients)));
                Latencies grpc = load("gRPC", grpcClient(grpcPort, config.modelId(), rows));
                System.out.println(grpc.line(String.format(Locale.ROOT, "served over gRPC, %d clients", clients)));
                System.out.printf(Locale.ROOT, "served/plain (best thread count): HTTP %.2fx, gRPC %.2fx predictions/s; "
                        + "HTTP %.1fx p99 latency%n", served.perSecond() / plain.perSecond(),
                        grpc.perSecond() / plain.perSecond(), (double) served.p99Nanos() / plain.p99Nanos());
                lastLine = String.format(Locale.ROOT, "freshness_p50_ms=%d freshness_p99_ms=%d qps=%.0f "
                        + "latency_p99_ms=%.2f grpc_qps=%.0f limit_ratio=%.2f", percentile(freshness, 0.50),
                        percentile(freshness, 0.99), served.perSecond(), served.p99Nanos() / 1e6, grpc.perSecond(),
                        served.perSecond() / plain.perSecond());
            }
        }
        if (sparseChunks > 0) {
            sparseFreshness(work.resolve("flights"));
        }
        System.out.println(lastLine);
        return 0;
    }

    /**
     * A wide &amp; deep model's freshness, measured as a user would: flights appended in chunks of
     * 1,000 at {@code --sparse-rate} to a running flights model (after a 20,000-flight warm-up);
     * each chunk's freshness is from its last flight's append to the served model including it.
     * The row lag (a row gradient's creation to its row's publication) is sampled from the job.
     */
    private void sparseFreshness(Path work) throws Exception {
        int chunk = 1_000;
        int warm = 20_000;
        List<String> flights = Flights.read().subList(0, warm + sparseChunks * chunk);
        FeatureSchema schema = FeatureSchema.load("flights");
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> TrainingConfig.builder(bootstrap).modelId("flights").workers(1).seed(SEED)
                        .sparse(SparseTraining.of(schema, WideDeepSpec.parse(WideDeepSpec.DEFAULT), 1, SEED)).build());
                ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                        deployment.config().topics().examples(), ExampleFormat.CSV)) {
            ModelClient client = new ModelClient(deployment.servingUri(), "flights");
            System.out.printf(Locale.ROOT, "Sparse model %s: warming up on %,d flights...%n", WideDeepSpec.DEFAULT, warm);
            feeder.feedLines(flights.subList(0, warm), n -> {});
            client.awaitExamplesTrained(warm, Duration.ofMinutes(5));
            RowLagSampler rowLag = new RowLagSampler(deployment);
            System.out.printf(Locale.ROOT, "Measuring the sparse model's freshness: %d chunks of %,d flights at %,d/s...%n",
                    sparseChunks, chunk, sparseRate);
            long[] freshness = new long[sparseChunks];
            // Until all but the chunk's last partial mini-batch were served: that one waits for the idle flush.
            long[] beforeTail = new long[sparseChunks];
            TrainingConfig config = deployment.config();
            long intervalNanos = TimeUnit.SECONDS.toNanos(1) / sparseRate;
            for (int c = 0; c < sparseChunks; c++) {
                int from = warm + c * chunk;
                long next = System.nanoTime();
                for (String line : flights.subList(from, from + chunk)) {
                    while (System.nanoTime() < next) {
                        Thread.onSpinWait();
                    }
                    feeder.send(line.getBytes(StandardCharsets.UTF_8));
                    next += intervalNanos;
                }
                feeder.flush();
                long appended = System.nanoTime();
                long deadline = appended + TimeUnit.MINUTES.toNanos(2);
                // Polled every 5 ms: the freshness of a quiet moment is well under a second.
                for (long trained = 0; trained < from + chunk; Thread.sleep(5)) {
                    trained = client.status().map(ModelClient.Status::examplesTrained).orElse(0L);
                    if (beforeTail[c] == 0 && trained >= from + chunk - config.batchSize()) {
                        beforeTail[c] = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - appended));
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("Chunk " + c + " was not served within 2 minutes; " + trained
                                + " examples served of " + (from + chunk));
                    }
                }
                freshness[c] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - appended);
                rowLag.sample();
            }
            Arrays.sort(freshness);
            Arrays.sort(beforeTail);
            System.out.printf(Locale.ROOT, "sparse freshness over %d chunks of %,d flights at %,d/s (last flight appended "
                    + "-> served model includes it): p50 %d ms, p99 %d ms, max %d ms; row lag p50 %.0f ms, p99 %.0f ms%n",
                    sparseChunks, chunk, sparseRate, percentile(freshness, 0.50), percentile(freshness, 0.99),
                    freshness[freshness.length - 1], rowLag.p50(), rowLag.p99());
            System.out.printf(Locale.ROOT, "of which all but the chunk's last partial mini-batch (it waits for the %d ms "
                    + "idle flush): p50 %d ms, p99 %d ms%n", config.idleFlush().toMillis(), percentile(beforeTail, 0.50),
                    percentile(beforeTail, 0.99));
        }
    }

    /** A marked example: its ordinal among all examples appended, and when it was appended. */
    private record Mark(long ordinal, long appendedNanos) {}

    /**
     * Appends {@code examples} at {@code --rate}, marking every {@code --mark-every}-th, while a
     * poller watches the served model; returns each mark's freshness in milliseconds.
     */
    private long[] measureFreshness(ExampleFeeder feeder, ModelClient client, List<Example> examples)
            throws Exception {
        ConcurrentLinkedQueue<Mark> marks = new ConcurrentLinkedQueue<>();
        List<Long> freshness = new ArrayList<>();
        List<Long> ages = new ArrayList<>();
        Thread poller = new Thread(() -> {
            Deque<Mark> waiting = new ArrayDeque<>();
            while (freshness.size() < marked && !Thread.currentThread().isInterrupted()) {
                for (Mark mark; (mark = marks.poll()) != null; ) {
                    waiting.add(mark);
                }
                ModelClient.Status status;
                try {
                    status = client.status().orElse(null);
                } catch (IOException e) {
                    continue;
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                long trained = status == null ? 0 : status.examplesTrained();
                while (!waiting.isEmpty() && trained >= waiting.peek().ordinal()) {
                    freshness.add(TimeUnit.NANOSECONDS.toMillis(now - waiting.poll().appendedNanos()));
                    ages.add(status.ageMillis());
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "freshness-poller");
        poller.start();
        System.out.printf(Locale.ROOT, "Measuring freshness: %,d examples at %,d/s...%n", examples.size(), rate);
        feed(feeder, examples, warmUp, marks);
        poller.join(TimeUnit.MINUTES.toMillis(2));
        if (poller.isAlive()) {
            poller.interrupt();
            throw new IllegalStateException("Only " + freshness.size() + " of " + marked
                    + " marked examples were served within 2 minutes of being appended");
        }
        long[] sortedAges = sorted(ages);
        System.out.printf(Locale.ROOT, "of which from the newest shard update to the server (model age when first "
                + "served): p50 %d ms, p99 %d ms%n", percentile(sortedAges, 0.5), percentile(sortedAges, 0.99));
        return freshness.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Appends at {@code --rate} in 10 ms steps; with {@code marks}, notes every
     * {@code --mark-every}-th example just before it is sent.
     *
     * @param before examples appended before these, for the ordinals
     */
    private void feed(ExampleFeeder feeder, List<Example> examples, long before, ConcurrentLinkedQueue<Mark> marks)
            throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < examples.size(); i++) {
            long due = start + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 10_000_000L) {
                Thread.sleep(wait / 1_000_000L);
            }
            long ordinal = before + i + 1;
            if (marks != null && (i + 1) % markEvery == 0) {
                marks.add(new Mark(ordinal, System.nanoTime()));
            }
            feeder.send(ExampleFormat.BINARY.encode(examples.get(i)));
        }
        feeder.flush();
    }

    /** Latencies of one run of requests. */
    record Latencies(long requests, double seconds, long[] sortedNanos) {
        double perSecond() {
            return requests / seconds;
        }

        long p99Nanos() {
            return percentile(sortedNanos, 0.99);
        }

        String line(String name) {
            return String.format(Locale.ROOT, "%-40s %,9.0f predictions/s | latency p50 %.3f ms, p99 %.3f ms", name,
                    perSecond(), percentile(sortedNanos, 0.50) / 1e6, p99Nanos() / 1e6);
        }
    }

    /**
     * Plain DL4J: one network per thread (as the server keeps one per request in progress), one
     * row per call, for 10 s after a 3 s warm-up: the limit of what any server of this model
     * could answer on this machine.
     */
    private static Latencies plainDl4j(ModelSpec spec, List<Example> rows, int threads) throws Exception {
        INDArray[] inputs = rows.stream().map(e -> Nd4j.create(e.features(), new long[] {1, e.features().length}, 'c'))
                .toArray(INDArray[]::new);
        long warmUpEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long end = warmUpEnd + TimeUnit.SECONDS.toNanos(10);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<Long>>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t;
            results.add(pool.submit(() -> {
                MultiLayerNetwork network = new MultiLayerNetwork(spec.configuration());
                network.init();
                List<Long> nanos = new ArrayList<>();
                for (int i = offset; ; i++) {
                    long start = System.nanoTime();
                    if (start > end) {
                        return nanos;
                    }
                    network.output(inputs[i % inputs.length]).getFloat(0);
                    if (start > warmUpEnd) {
                        nanos.add(System.nanoTime() - start);
                    }
                }
            }));
        }
        List<Long> all = new ArrayList<>();
        for (Future<List<Long>> result : results) {
            all.addAll(result.get(1, TimeUnit.MINUTES));
        }
        pool.shutdown();
        return new Latencies(all.size(), 10, sorted(all));
    }

    /** One client of the load: sends the i-th request and returns once it is answered. */
    private interface Client extends AutoCloseable {
        void send(int i) throws Exception;

        @Override
        void close();
    }

    /** A client on its own HTTP/1.1 connection, posting one row as JSON. */
    private static Supplier<Client> restClient(URI server, String model, List<Example> rows) {
        URI predict = server.resolve("/v1/models/" + model + ":predict");
        String[] bodies = rows.stream().map(ServingBenchmark::instancesJson).toArray(String[]::new);
        return () -> {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            return new Client() {
                @Override
                public void send(int i) throws Exception {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(predict)
                            .POST(HttpRequest.BodyPublishers.ofString(bodies[i % bodies.length])).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 200) {
                        throw new IllegalStateException("predict answered " + response.statusCode() + ": "
                                + response.body());
                    }
                }

                @Override
                public void close() {
                    // The JDK client of this Java closes its connections when it is collected.
                }
            };
        };
    }

    /** A client on its own gRPC channel, sending one row as a TF Serving PredictRequest. */
    private static Supplier<Client> grpcClient(int port, String model, List<Example> rows) {
        PredictRequest[] requests = rows.stream().map(e -> {
            TensorProto.Builder tensor = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(
                    TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1))
                            .addDim(TensorShapeProto.Dim.newBuilder().setSize(e.features().length)));
            for (float v : e.features()) {
                tensor.addFloatVal(v);
            }
            return PredictRequest.newBuilder()
                    .setModelSpec(io.streambelief.serving.tfserving.ModelSpec.newBuilder().setName(model))
                    .putInputs("x", tensor.build()).build();
        }).toArray(PredictRequest[]::new);
        return () -> {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            PredictionServiceGrpc.PredictionServiceBlockingStub stub = PredictionServiceGrpc.newBlockingStub(channel);
            return new Client() {
                @Override
                public void send(int i) {
                    stub.predict(requests[i % requests.length]);
                }

                @Override
                public void close() {
                    channel.shutdownNow();
                }
            };
        };
    }

    /** {@code --clients} threads, each with its own connection, sending single rows back to back. */
    private Latencies load(String protocol, Supplier<Client> connect) throws Exception {
        System.out.printf(Locale.ROOT, "Load over %s: %d clients for %d s...%n", protocol, clients, seconds);
        long warmUpEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long end = warmUpEnd + TimeUnit.SECONDS.toNanos(seconds);
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        List<Future<List<Long>>> results = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int offset = c;
            results.add(threads.submit(() -> {
                try (Client client = connect.get()) {
                    List<Long> nanos = new ArrayList<>();
                    for (int i = offset; ; i++) {
                        long start = System.nanoTime();
                        if (start > end) {
                            return nanos;
                        }
                        client.send(i);
                        if (start > warmUpEnd) {
                            nanos.add(System.nanoTime() - start);
                        }
                    }
                }
            }));
        }
        List<Long> all = new ArrayList<>();
        for (Future<List<Long>> result : results) {
            all.addAll(result.get(seconds + 60L, TimeUnit.SECONDS));
        }
        threads.shutdown();
        return new Latencies(all.size(), seconds, sorted(all));
    }

    private static String instancesJson(Example example) {
        StringBuilder json = new StringBuilder("{\"instances\": [[");
        float[] features = example.features();
        for (int i = 0; i < features.length; i++) {
            json.append(i == 0 ? "" : ",").append(features[i]);
        }
        return json.append("]]}").toString();
    }

    private static long[] sorted(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted;
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)];
    }
}
