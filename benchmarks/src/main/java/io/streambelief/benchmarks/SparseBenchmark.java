package io.streambelief.benchmarks;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;


import io.streambelief.flink.config.Intervals;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingOptions;
import io.streambelief.kafka.data.Flights;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.sparse.SparseExampleParser;
import io.streambelief.kafka.topic.PartitionContents;
import io.streambelief.launcher.local.LocalDeployment;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepSpec;
import io.streambelief.processes.ChildJvm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The sparse (hybrid-parallel) benchmark: (1) progressive AUC on the flights stream, the whole
 * pipeline against plain DL4J with hashed-bucket embeddings, same features, same order, one pass;
 * (2) a synthetic table of ten million rows through the whole pipeline with a 1 GiB heap; (3) a
 * bare RocksDB read-modify-write loop on the same rows in that same JVM, the physical limit of (2).
 */
@Command(name = "sparse", mixinStandardHelpOptions = true,
        description = "Wide & deep on embedding shards: AUC against plain DL4J, and row throughput at 10M rows.")
public final class SparseBenchmark implements Callable<Integer> {
    private static final long SEED = 42;
    private static final Pattern RESULT = Pattern.compile("RESULT rows=(\\d+) row_updates_per_s=(\\d+) raw_per_s=(\\d+) "
            + "bytes_per_example=([\\d.]+) examples=(\\d+) max_heap_mib=(\\d+)");

    @Option(names = "--model", defaultValue = WideDeepSpec.DEFAULT, description = "Flights model. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--checkpoint-interval", defaultValue = Intervals.DEFAULT_CHECKPOINT, converter = TrainingOptions.DurationConverter.class,
            description = "The flights pipeline's checkpoint interval: how long row gradients wait to be applied. "
                    + "Default: ${DEFAULT-VALUE}.")
    Duration checkpointInterval;

    @Option(names = "--wide-optimizer", defaultValue = EmbeddingTable.DEFAULT_WIDE_OPTIMIZER, description = "Default: ${DEFAULT-VALUE}.")
    String wideOptimizer;

    @Option(names = "--deep-optimizer", defaultValue = EmbeddingTable.DEFAULT_DEEP_OPTIMIZER, description = "Default: ${DEFAULT-VALUE}.")
    String deepOptimizer;

    @Option(names = "--optimizer", defaultValue = "adagrad:lr=0.1",
            description = "The MLP's optimizer (the best of lr 0.03, 0.05 and 0.1 in development runs). Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--buckets", defaultValue = "16384",
            description = "Hashed buckets per field of the plain DL4J model. Default: ${DEFAULT-VALUE}.")
    int buckets;

    @Option(names = "--baseline-lr", defaultValue = "0.05",
            description = "Adagrad learning rate of the plain DL4J model. Default: ${DEFAULT-VALUE}.")
    double baselineLearningRate;

    @Option(names = "--baseline-batch", defaultValue = "32",
            description = "Mini-batch of the plain DL4J model. Default: ${DEFAULT-VALUE}.")
    int baselineBatch;

    @Option(names = "--flights-only", description = "Run part (1) only.")
    boolean flightsOnly;

    @Option(names = "--rows", defaultValue = "10000000", description = "Rows the synthetic table must reach. Default: ${DEFAULT-VALUE}.")
    long rows;

    @Option(names = "--head-slots", defaultValue = "2", description = "Synthetic fields drawn from a Zipf head. Default: ${DEFAULT-VALUE}.")
    int headSlots;

    @Option(names = "--tail-slots", defaultValue = "6",
            description = "Synthetic fields with a new value in every record (new rows). Default: ${DEFAULT-VALUE}.")
    int tailSlots;

    @Option(names = "--vocabulary", defaultValue = "100000", description = "Size of the Zipf head. Default: ${DEFAULT-VALUE}.")
    int vocabulary;

    @Option(names = "--heap", defaultValue = "1g", description = "Heap of the JVM that runs the pipeline in (2). Default: ${DEFAULT-VALUE}.")
    String heap;

    @Option(names = "--raw-seconds", defaultValue = "30", description = "Length of the bare RocksDB loop. Default: ${DEFAULT-VALUE}.")
    int rawSeconds;

    @Option(names = "--work-dir", defaultValue = "benchmarks/target/work",
            description = "Scratch directory; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        Path work = Bench.emptied(workDir);
        long t0 = System.nanoTime();
        FeatureSchema schema = FeatureSchema.load("flights");
        WideDeepSpec wideDeep = WideDeepSpec.parse(model);
        List<String> flights = Flights.read();
        SparseExampleParser parser = new SparseExampleParser(schema, 1 << 20);
        List<SparseExample> examples = new ArrayList<>(flights.size());
        for (String line : flights) {
            examples.add(parser.parse(line.getBytes(StandardCharsets.UTF_8)));
        }
        System.out.printf(Locale.ROOT, "Sparse benchmark: %,d flights in time order, %s, %d cores%n", examples.size(),
                schema, Runtime.getRuntime().availableProcessors());

        // (1a) Plain DL4J.
        long start = System.nanoTime();
        double baselineAuc = SparseBaseline.progressiveAuc(examples, schema.slots(), schema.numerics(), wideDeep.dim(),
                wideDeep.hidden(), buckets, baselineBatch, baselineLearningRate, SEED);
        System.out.printf(Locale.ROOT, "(1) plain DL4J, ComputationGraph with %d embedding layers of %,d buckets, Adagrad "
                + "lr %s, batch %d, one pass: progressive AUC %.4f (%.0f s)%n", schema.slots(), buckets,
                baselineLearningRate, baselineBatch, baselineAuc, since(start));


        // (1b) The pipeline.
        start = System.nanoTime();
        double pipelineAuc;
        RowLagSampler rowLag;
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work.resolve("flights")),
                bootstrap -> TrainingConfig.builder(bootstrap).modelId("flights").workers(1).seed(SEED)
                        .checkpointInterval(checkpointInterval).optimizer(Optimizer.parse(optimizer))
                        .sparse(SparseTraining.of(schema, wideDeep, 2, SEED).withTable(new EmbeddingTable(wideDeep.dim(),
                                RowOptimizer.parse(wideOptimizer), RowOptimizer.parse(deepOptimizer), SEED)))
                        .build())) {
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                    deployment.config().topics().examples(), ExampleFormat.CSV)) {
                feeder.feedLines(flights, n -> {});
            }
            rowLag = new RowLagSampler(deployment);
            pipelineAuc = awaitFinalAuc(deployment, examples.size(), Duration.ofMinutes(8), rowLag);
            // The last gradients are published once the checkpoint after them completes.
            Thread.sleep(checkpointInterval.toMillis() + 2_000);
            rowLag.sample();
        }
        System.out.printf(Locale.ROOT, "(1) pipeline, %s, 1 worker, 2 embedding shards, batch 32, MLP %s, wide %s, deep "
                + "%s, checkpoints every %d ms: progressive AUC %.4f (%.0f s); row lag p50 %.0f ms, p99 %.0f ms%n",
                wideDeep, optimizer, wideOptimizer, deepOptimizer, checkpointInterval.toMillis(), pipelineAuc, since(start),
                rowLag.p50(), rowLag.p99());

        if (flightsOnly) {
            System.out.printf(Locale.ROOT, "auc=%.4f baseline_auc=%.4f row_lag_p99_ms=%.0f%n", pipelineAuc, baselineAuc,
                    rowLag.p99());
            return 0;
        }

        // (2) and (3) in a JVM whose heap is the bound.
        long records = (rows + tailSlots - 1) / tailSlots;
        System.out.printf(Locale.ROOT, "(2) synthetic: %,d records, %d Zipf fields over %,d values + %d new ids per record, "
                + "pipeline in a JVM with -Xmx%s%n", records, headSlots, vocabulary, tailSlots, heap);
        Path log = work.resolve("scale.log");
        String classpath = System.getProperty("java.class.path");
        try (ChildJvm child = ChildJvm.start("sparse-scale", List.of(classpath.split(File.pathSeparator)),
                List.of("-Xmx" + heap, "-XX:+UseParallelGC", "-Dlog4j2.configurationFile="
                        + System.getProperty("log4j2.configurationFile", ""),
                        "-Dstreambelief.log.file=" + work.resolve("scale-flink.log")),
                SparseScaleRun.class.getName(), List.of(work.resolve("scale").toString(), Long.toString(records),
                        Integer.toString(headSlots), Integer.toString(tailSlots), Integer.toString(vocabulary),
                        Integer.toString(rawSeconds)),
                Map.of("OMP_NUM_THREADS", "1"), log)) {
            int printed = 0;
            while (child.isAlive()) {
                Thread.sleep(2000);
                printed = echo(log, printed);
            }
            echo(log, printed);
        }
        Matcher result = null;
        for (String line : Files.readAllLines(log)) {
            Matcher m = RESULT.matcher(line);
            if (m.find()) {
                result = m;
            }
        }
        if (result == null) {
            System.out.println("The synthetic run gave no result; see " + log);
            return 1;
        }
        long liveRows = Long.parseLong(result.group(1));
        double rate = Double.parseDouble(result.group(2));
        double raw = Double.parseDouble(result.group(3));
        double bytes = Double.parseDouble(result.group(4));
        System.out.printf(Locale.ROOT, "Done in %.0f s.%n", since(t0));
        System.out.printf(Locale.ROOT, "auc=%.4f baseline_auc=%.4f rows=%d row_updates_per_s=%.0f rocksdb_limit_ratio=%.3f "
                + "bytes_per_example=%.0f row_lag_p99_ms=%.0f%n", pipelineAuc, baselineAuc, liveRows, rate, rate / raw, bytes,
                rowLag.p99());
        return 0;
    }

    /** The AUC of the worker's last report once it has evaluated every example. */
    private static double awaitFinalAuc(LocalDeployment deployment, long examples, Duration timeout, RowLagSampler rowLag)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String topic = deployment.config().topics().trainingMetrics();
        while (System.nanoTime() < deadline) {
            Thread.sleep(2000);
            rowLag.sample();
            TrainingMetrics last = null;
            for (var record : PartitionContents.upToEnd(deployment.bootstrapServers(), topic, "read_uncommitted")) {
                last = TrainingMetrics.fromJson(record.value());
            }
            if (last != null && last.examples() >= examples && last.auc() != null) {
                return last.auc();
            }
        }
        throw new IllegalStateException("The pipeline did not evaluate all " + examples + " flights within " + timeout);
    }

    /** Prints the child's new progress lines. */
    private static int echo(Path log, int printed) throws Exception {
        if (!Files.exists(log)) {
            return printed;
        }
        List<String> lines = Files.readAllLines(log);
        int shown = printed;
        for (int i = printed; i < lines.size(); i++) {
            if (lines.get(i).startsWith("  [")) {
                System.out.println(lines.get(i));
            }
            shown = i + 1;
        }
        return shown;
    }

    private static double since(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
