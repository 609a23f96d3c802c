package io.streambelief.benchmarks;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.launcher.local.LocalDeployment;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

/**
 * One measured run of the training benchmark, in a JVM of its own so that no run inherits
 * another's JIT, heap or native threads: either plain DL4J {@code fit} (its BLAS threads set by
 * the parent through {@code OMP_NUM_THREADS}) or the whole pipeline in one named configuration.
 * Prints one {@code RESULT} line for the parent.
 *
 * <p>Arguments: {@code plain <examples> <target> <eval-every>} or
 * {@code pipeline <configuration> <examples> <target> <work-dir>}.
 */
public final class TrainingRun {
    static final long SEED = 42;
    /**
     * Examples each side trains on untimed before it is measured, plain DL4J and the pipeline
     * alike. Twice the default warmstart, so that the pipeline's warm-up reaches the phase where
     * both workers train: with the warmstart alone, the JIT compiled that phase's code (deltas,
     * merges, two workers' pushes) during the measured run, a quarter of a core for most of it.
     */
    static final int WARM_UP_EXAMPLES = 59_999;

    /** The pipeline configurations the benchmark knows; {@code default} is what a user gets. */
    enum Configuration {
        DEFAULT("async, W=2, the defaults", builder -> builder),
        UNCOMPRESSED("async, W=2, whole gradients", builder -> builder.compression(GradientCompression.NONE)),
        W1("async, W=1, the defaults", builder -> builder.workers(1)),
        SSP("ssp(s=4), W=2, the defaults", builder -> builder.mode(TrainingMode.SSP).stalenessBound(4)),
        BSP("bsp, W=2, the defaults", builder -> builder.mode(TrainingMode.BSP)),
        SERVING1S("async, W=2, whole shards to model-params every 1 s", builder -> builder.servingPublishInterval(
                Duration.ofSeconds(1)));

        final String description;
        private final UnaryOperator<TrainingConfig.Builder> settings;

        Configuration(String description, UnaryOperator<TrainingConfig.Builder> settings) {
            this.description = description;
            this.settings = settings;
        }

        TrainingConfig.Builder apply(TrainingConfig.Builder builder) {
            return settings.apply(builder);
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param seconds until the model includes every example
     * @param secondsToTarget until an evaluation of it reached the target accuracy, taken when
     *     that evaluation finished (infinite if never)
     * @param accuracy final test accuracy of the averaged parameters (the pipeline's served ones)
     * @param latestAccuracy final test accuracy of the latest parameters
     * @param bytesPerExample bytes workers pushed and took in, per example; 0 for plain DL4J
     */
    record Result(int examples, double seconds, double secondsToTarget, double accuracy, double latestAccuracy,
            double bytesPerExample) {
        double rate() {
            return examples / seconds;
        }

        String line() {
            return String.format(Locale.ROOT, "RESULT examples=%d seconds=%.3f to_target=%s accuracy=%.5f latest=%s "
                    + "bytes_per_example=%.1f", examples, seconds, secondsToTarget, accuracy, latestAccuracy,
                    bytesPerExample);
        }

        static Result parse(String line) {
            Map<String, String> fields = new HashMap<>();
            for (String field : line.substring("RESULT ".length()).split(" ")) {
                String[] kv = field.split("=", 2);
                fields.put(kv[0], kv[1]);
            }
            return new Result(Integer.parseInt(fields.get("examples")), Double.parseDouble(fields.get("seconds")),
                    Double.parseDouble(fields.get("to_target")), Double.parseDouble(fields.get("accuracy")),
                    Double.parseDouble(fields.get("latest")), Double.parseDouble(fields.get("bytes_per_example")));
        }
    }

    private TrainingRun() {}

    public static void main(String[] args) throws Exception {
        Result result = switch (args[0]) {
            case "plain" -> plain(Integer.parseInt(args[1]), Double.parseDouble(args[2]), Integer.parseInt(args[3]));
            case "pipeline" -> pipeline(Configuration.valueOf(args[1].toUpperCase(Locale.ROOT)),
                    Integer.parseInt(args[2]), Double.parseDouble(args[3]), Path.of(args[4]));
            default -> throw new IllegalArgumentException("plain or pipeline, not " + args[0]);
        };
        System.out.println(result.line());
        System.exit(0);
    }

    private static ExampleSet train(int examples) throws Exception {
        ExampleSet train = FashionMnist.read().train().shuffled(SEED);
        return examples > 0 ? train.take(examples) : train;
    }

    /**
     * Plain DL4J, timed while it trains only: it is evaluated every {@code evalEvery} examples
     * with the clock stopped. The JIT and ND4J's native code warm up first, outside the timing.
     * It keeps the parameters' moving average as the parameter servers do (within the timing:
     * the pipeline pays for it too), and is scored on it, as the served model is.
     */
    static Result plain(int examples, double target, int evalEvery) throws Exception {
        ExampleSet train = train(examples);
        ExampleSet test = FashionMnist.read().test();
        TrainingConfig defaults = TrainingConfig.builder("unused").seed(SEED).build();
        ModelSpec spec = defaults.spec();
        int batch = defaults.batchSize();
        Dl4jBaseline.train(spec, defaults.optimizer(), train.take(WARM_UP_EXAMPLES).examples(), batch);
        MultiLayerNetwork network = new MultiLayerNetwork(spec.configuration(defaults.optimizer().toDl4jUpdater()));
        network.init();
        Dl4jBaseline.ParameterAverage average = new Dl4jBaseline.ParameterAverage(network, defaults.averageDecay());
        long trainingNanos = 0;
        double secondsToTarget = Double.POSITIVE_INFINITY;
        double accuracy = 0;
        int chunk = Math.max(batch, evalEvery / batch * batch);
        for (int from = 0; from < train.size(); from += chunk) {
            long start = System.nanoTime();
            Dl4jBaseline.fit(network, spec, train.examples().subList(from, Math.min(from + chunk, train.size())), batch,
                    average);
            trainingNanos += System.nanoTime() - start;
            accuracy = Dl4jBaseline.accuracy(average.applyTo(network), spec, test.examples());
            if (accuracy >= target && secondsToTarget == Double.POSITIVE_INFINITY) {
                secondsToTarget = trainingNanos / 1e9;
            }
        }
        double latest = Dl4jBaseline.accuracy(network, spec, test.examples());
        return new Result(train.size(), trainingNanos / 1e9, secondsToTarget, accuracy, latest, 0);
    }

    /**
     * The whole system as {@code ./run-local} starts it, timed from the first example fed until
     * the served model includes them all. It warms up as plain DL4J does: the same code on the
     * first {@value #WARM_UP_EXAMPLES} examples, in this JVM, untimed (a pipeline of its own, closed
     * before the measured one starts; the broker and model server are child processes and start
     * cold again). Warming up DL4J alone left the JIT compiling Flink, Kafka and our own code
     * during the measured run: half a core of the two for most of it.
     */
    static Result pipeline(Configuration configuration, int examples, double target, Path workDir) throws Exception {
        ExampleSet train = train(examples);
        System.out.printf(Locale.ROOT, "Warm-up: the pipeline on %,d examples, untimed%n", WARM_UP_EXAMPLES);
        run(configuration, train.take(WARM_UP_EXAMPLES), null, target, workDir.resolve("warm-up"));
        return run(configuration, train, FashionMnist.read().test(), target, workDir.resolve("measured"));
    }

    /**
     * Every second the benchmark takes the parameters the model server has — the latest record
     * of every shard on model-params, which it follows too — and keeps their moving average
     * (what is served) with the time. Once the served model includes every example, it evaluates
     * the kept parameters on the test split in order, here, and credits the target to the time
     * of the first that reaches it: the time those parameters were served. Plain DL4J is
     * evaluated with its clock stopped; evaluating during the run instead (10,001 images every
     * few seconds) took CPU from the pipeline it measured, and sending them to the model server
     * as JSON, as earlier versions did, cost a whole core of the two.
     *
     * @param test null for no evaluation (the warm-up)
     */
    private static Result run(Configuration configuration, ExampleSet train, ExampleSet test, double target,
            Path workDir) throws Exception {
        Path work = Bench.emptied(workDir);
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work),
                bootstrap -> configuration.apply(TrainingConfig.builder(bootstrap).seed(SEED)).build());
                ServedShards served = new ServedShards(deployment.bootstrapServers(), deployment.config())) {
            TrainingConfig config = deployment.config();
            System.out.println("Pipeline " + configuration.label() + ": " + configuration.description
                    + "; gradient compression " + config.compression());
            long start = System.nanoTime();
            Thread feeding = new Thread(() -> {
                try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                        config.topics().examples(), ExampleFormat.BINARY)) {
                    feeder.feed(train.examples(), 1, n -> {});
                    System.out.printf(Locale.ROOT, "  %5.1f s: all %,d examples fed%n", (System.nanoTime() - start) / 1e9,
                            train.size());
                } catch (Exception e) {
                    throw new IllegalStateException("Feeding failed", e);
                }
            }, "feeder");
            feeding.start();
            List<Served> history = new ArrayList<>();
            double seconds = Double.NaN;
            long deadline = start + Duration.ofMinutes(20).toNanos();
            long reported = 0;
            while (Double.isNaN(seconds)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("The pipeline did not train all examples within 20 minutes");
                }
                Thread.sleep(1_000);
                served.poll();
                long trained = served.examplesTrained();
                double now = (System.nanoTime() - start) / 1e9;
                if (trained > 0 && (history.isEmpty() || history.get(history.size() - 1).examples() != trained)) {
                    history.add(new Served(now, trained, served.parameters(true)));
                }
                if (trained == train.size()) {
                    seconds = now;
                }
                if (now - reported >= 5 || !Double.isNaN(seconds)) {
                    System.out.printf(Locale.ROOT, "  %5.1f s: the served model holds %,d examples%n", now, trained);
                    reported = (long) now;
                }
            }
            feeding.join();
            if (test == null) {
                return new Result(train.size(), seconds, Double.POSITIVE_INFINITY, Double.NaN, Double.NaN, Double.NaN);
            }
            double secondsToTarget = Double.POSITIVE_INFINITY;
            for (Served model : history) {
                double accuracy = served.accuracy(model.parameters(), test);
                System.out.printf(Locale.ROOT, "  served at %5.1f s with %,d examples: accuracy %.2f%%%n",
                        model.seconds(), model.examples(), 100 * accuracy);
                if (accuracy >= target) {
                    secondsToTarget = model.seconds();
                    break;
                }
            }
            // Each worker reports its traffic with its metrics; give the last report time to arrive.
            Thread.sleep(2 * config.metricsInterval().toMillis() + 500);
            served.poll();
            double bytes = workerBytes(deployment.bootstrapServers(), config.topics().trainingMetrics());
            return new Result(train.size(), seconds, secondsToTarget, served.accuracy(served.parameters(true), test),
                    served.accuracy(served.parameters(false), test), bytes / train.size());
        }
    }

    /** The served model's parameters (averaged) as the benchmark took them, with the time and examples. */
    private record Served(double seconds, long examples, float[] parameters) {}

    /**
     * The latest record of every shard of the model on model-params: what the model server serves.
     * It reads the topic from its end backwards, a few records at a time, until it has each shard's
     * newest record or reaches what it read last: reading every record (about 40 whole shards a
     * second, 20 MB/s) made the broker serve a second copy of the topic to the benchmark.
     */
    private static final class ServedShards implements AutoCloseable {
        private final TrainingConfig config;
        private final KafkaConsumer<byte[], byte[]> consumer;
        private final TopicPartition partition;
        private final Map<Integer, ParamUpdate> latest = new HashMap<>();
        private long readUpTo;

        ServedShards(String bootstrapServers, TrainingConfig config) {
            this.config = config;
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(8 << 20));
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            partition = new TopicPartition(config.topics().modelParams(), 0);
            consumer.assign(List.of(partition));
        }

        /** Takes in the newest record of every shard published since the last call. */
        void poll() {
            long end = consumer.endOffsets(List.of(partition), Duration.ofSeconds(10)).get(partition);
            int shards = config.layout().shardCount();
            Map<Integer, byte[]> newest = new HashMap<>();
            for (long to = end; to > readUpTo && newest.size() < shards; to -= 2L * shards) {
                long from = Math.max(readUpTo, to - 2L * shards);
                readRange(from, to, newest);
            }
            readUpTo = end;
            newest.values().forEach(value -> {
                ParamUpdate update = ParamUpdateCodec.decode(value);
                latest.put(update.shardId(), update);
            });
        }

        /** Offsets {@code [from, to)}: each shard's record there, unless a later one is in {@code newest}. */
        private void readRange(long from, long to, Map<Integer, byte[]> newest) {
            String prefix = config.modelId() + "/";
            Map<Integer, byte[]> range = new HashMap<>();
            consumer.seek(partition, from);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (consumer.position(partition) < to && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    String key = record.key() == null ? "" : new String(record.key(), StandardCharsets.UTF_8);
                    if (record.offset() < to && record.value() != null && key.startsWith(prefix)
                            && !key.equals(ModelIds.definitionKey(config.modelId()))) {
                        range.put(Integer.parseInt(key.substring(prefix.length())), record.value());
                    }
                }
            }
            range.forEach(newest::putIfAbsent);
        }

        /** What the model server counts: the examples every shard holds. */
        long examplesTrained() {
            return latest.size() < config.layout().shardCount() ? 0
                    : latest.values().stream().mapToLong(ParamUpdate::examplesApplied).min().orElse(0);
        }

        /** The whole model's parameters: the shards' moving averages, or their latest values. */
        float[] parameters(boolean averaged) {
            float[] parameters = config.spec().initialParameters();
            latest.values().forEach(shard -> config.layout().place(parameters, shard.shardId(),
                    averaged && shard.hasAverage() ? shard.average() : shard.values()));
            return parameters;
        }

        double accuracy(float[] parameters, ExampleSet test) {
            MultiLayerNetwork network = new MultiLayerNetwork(config.spec().configuration());
            network.init(Nd4j.create(parameters, new long[] {1, parameters.length}), false);
            return Dl4jBaseline.accuracy(network, config.spec(), test.examples());
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    /** Bytes every worker pushed and took in, summed, as of each one's last report. */
    private static double workerBytes(String bootstrapServers, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        Map<Integer, Long> perWorker = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                    TrainingMetrics metrics = TrainingMetrics.fromJson(record.value());
                    if (metrics.bytesPushed() != null) {
                        perWorker.merge(metrics.worker(), metrics.bytesPushed() + metrics.bytesReceived(), Math::max);
                    }
                }
            }
        }
        return perWorker.values().stream().mapToLong(Long::longValue).sum();
    }
}
