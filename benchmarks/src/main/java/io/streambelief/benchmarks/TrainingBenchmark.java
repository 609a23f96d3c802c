package io.streambelief.benchmarks;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.processes.ChildJvm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Streams Fashion-MNIST's training split once through the whole system — broker, training job on
 * a MiniCluster with RocksDB and checkpoints, model server — and compares how fast it trains and
 * how accurate it gets with plain DL4J {@code fit} on the same model, data, order, batch size and
 * updater. Every run is a fresh JVM ({@link TrainingRun}); every side is repeated and its median
 * reported. Plain DL4J runs at one and at two BLAS threads and the faster is the baseline; the
 * last line compares the {@code default} configuration, the one a user gets, with it.
 */
@Command(name = "training", mixinStandardHelpOptions = true,
        description = "Training throughput, time to accuracy and traffic of the pipeline against plain DL4J.")
public final class TrainingBenchmark implements Callable<Integer> {

    @Option(names = "--configurations", split = ",", paramLabel = "NAME[,NAME...]",
            defaultValue = "default,uncompressed",
            description = "Pipeline configurations to run: default, uncompressed, w1, ssp, bsp, serving1s; the first line's "
                    + "ratios always come from default. Default: ${DEFAULT-VALUE}.")
    List<String> configurations;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "3",
            description = "Runs of every side; medians are reported. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--examples", paramLabel = "N", defaultValue = "0",
            description = "Train on the first N examples of the shuffled training split (0: all). Default: all.")
    int examples;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "benchmarks/target/work",
            description = "Scratch directory for brokers, checkpoints and the runs' logs. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Option(names = "--target", paramLabel = "ACCURACY", defaultValue = "0.85",
            description = "Test accuracy whose first reaching is timed. Default: ${DEFAULT-VALUE}.")
    double target;

    @Option(names = "--eval-every", paramLabel = "EXAMPLES", defaultValue = "5000",
            description = "Plain DL4J is evaluated on the test split after every this many examples (the pipeline's "
                    + "served model is taken every second and evaluated after the run). Default: ${DEFAULT-VALUE}.")
    int evalEvery;

    @Override
    public Integer call() throws Exception {
        List<TrainingRun.Configuration> pipelines = new ArrayList<>(List.of(TrainingRun.Configuration.DEFAULT));
        for (String name : configurations) {
            TrainingRun.Configuration c = TrainingRun.Configuration.valueOf(name.trim().toUpperCase(Locale.ROOT));
            if (!pipelines.contains(c)) {
                pipelines.add(c);
            }
        }
        TrainingConfig defaults = TrainingConfig.builder("unused").build();
        System.out.printf(Locale.ROOT, "Training benchmark: %s, %s, batch %d, gradient compression %s, Fashion-MNIST "
                + "training split once, target accuracy %.0f%%; %d repeats per side, each in a fresh JVM; %d cores%n",
                defaults.spec().source(), defaults.optimizer(), defaults.batchSize(), defaults.compression(),
                100 * target, repeats, Runtime.getRuntime().availableProcessors());
        Files.createDirectories(workDir);

        Map<String, List<TrainingRun.Result>> sides = new LinkedHashMap<>();
        for (int threads : new int[] {1, 2}) {
            String name = "plain DL4J, " + threads + " BLAS thread" + (threads > 1 ? "s" : "");
            for (int run = 1; run <= repeats; run++) {
                TrainingRun.Result result = child(name + " #" + run, Map.of("OMP_NUM_THREADS", Integer.toString(threads)),
                        "plain", Integer.toString(examples), Double.toString(target), Integer.toString(evalEvery));
                sides.computeIfAbsent(name, n -> new ArrayList<>()).add(result);
            }
        }
        for (TrainingRun.Configuration configuration : pipelines) {
            String name = "pipeline " + configuration.label();
            for (int run = 1; run <= repeats; run++) {
                TrainingRun.Result result = child(name + " #" + run, Map.of("OMP_NUM_THREADS", "1"), "pipeline",
                        configuration.label(), Integer.toString(examples), Double.toString(target),
                        workDir.resolve(configuration.label()).toString());
                sides.computeIfAbsent(name, n -> new ArrayList<>()).add(result);
            }
        }

        String one = "plain DL4J, 1 BLAS thread";
        String two = "plain DL4J, 2 BLAS threads";
        String baseline = median(sides.get(two), TrainingRun.Result::rate) > median(sides.get(one),
                TrainingRun.Result::rate) ? two : one;
        System.out.println();
        System.out.printf(Locale.ROOT, "Summary: medians of %d runs (min-max); baseline: %s, the faster plain side.%n"
                + "Accuracy: final test accuracy of the parameters' moving average, as served (and as plain DL4J keeps "
                + "it); the latest parameters' in brackets. Time to %.0f%%: training time until the averaged "
                + "parameters reached it (plain: clock stopped while evaluating; pipeline: when those parameters "
                + "were served, evaluated after the run).%n",
                repeats, baseline, 100 * target);
        List<TrainingRun.Result> base = sides.get(baseline);
        sides.forEach((name, results) -> System.out.println(row(name, results, base)));
        for (TrainingRun.Configuration configuration : pipelines) {
            System.out.println("  pipeline " + configuration.label() + ": " + configuration.description);
        }
        List<TrainingRun.Result> chosen = sides.get("pipeline default");
        System.out.printf(Locale.ROOT, "throughput_ratio=%.3f time_to_accuracy_ratio=%.3f bytes_per_example=%.0f "
                + "accuracy_delta_pp=%.2f%n",
                median(chosen, TrainingRun.Result::rate) / median(base, TrainingRun.Result::rate),
                median(chosen, TrainingRun.Result::secondsToTarget) / median(base, TrainingRun.Result::secondsToTarget),
                median(chosen, TrainingRun.Result::bytesPerExample),
                100 * (median(chosen, TrainingRun.Result::accuracy) - median(base, TrainingRun.Result::accuracy)));
        return 0;
    }

    private TrainingRun.Result child(String name, Map<String, String> environment, String... arguments)
            throws Exception {
        Path log = workDir.resolve(name.replaceAll("[^A-Za-z0-9#]+", "-").replace("#", "") + ".log");
        Files.deleteIfExists(log);
        long start = System.nanoTime();
        try (ChildJvm child = ChildJvm.start(name, List.of(System.getProperty("java.class.path").split(File.pathSeparator)),
                List.of("-Xmx6g", "-XX:+UseParallelGC", "-Dstreambelief.home=" + System.getProperty("streambelief.home", "."),
                        "-Dlog4j2.configurationFile=" + System.getProperty("log4j2.configurationFile", ""),
                        "-Dstreambelief.log.file=" + workDir.resolve("flink.log")),
                TrainingRun.class.getName(), Arrays.asList(arguments), environment, log)) {
            int exit = child.waitFor(java.time.Duration.ofMinutes(25));
            String resultLine = Files.readAllLines(log).stream().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
                    .orElseThrow(() -> new IllegalStateException(name + " gave no result (exit " + exit + "); see " + log
                            + ":\n" + child.logTail(20)));
            TrainingRun.Result result = TrainingRun.Result.parse(resultLine);
            System.out.printf(Locale.ROOT, "%-32s %,7.0f ex/s (%5.1f s) | to target %s | accuracy %.2f%%%s%s [%.0f s]%n",
                    name, result.rate(), result.seconds(), Double.isFinite(result.secondsToTarget())
                            ? String.format(Locale.ROOT, "%5.1f s", result.secondsToTarget()) : "never",
                    100 * result.accuracy(), String.format(Locale.ROOT, " (latest %.2f%%)", 100 * result.latestAccuracy()),
                    result.bytesPerExample() > 0 ? String.format(Locale.ROOT, " | %,.0f B/example", result.bytesPerExample())
                            : "", (System.nanoTime() - start) / 1e9);
            return result;
        }
    }

    private static String row(String name, List<TrainingRun.Result> results, List<TrainingRun.Result> base) {
        double rate = median(results, TrainingRun.Result::rate);
        double toTarget = median(results, TrainingRun.Result::secondsToTarget);
        double latest = median(results, TrainingRun.Result::latestAccuracy);
        double bytes = median(results, TrainingRun.Result::bytesPerExample);
        return String.format(Locale.ROOT, "%-28s %,7.0f ex/s (%s, %.2fx) | to target %s | accuracy %.2f%%%s%s", name,
                rate, range(results, TrainingRun.Result::rate, "%,.0f"), rate / median(base, TrainingRun.Result::rate),
                Double.isFinite(toTarget) ? String.format(Locale.ROOT, "%.1f s (%s, %.2fx)", toTarget,
                        range(results, TrainingRun.Result::secondsToTarget, "%.1f"),
                        toTarget / median(base, TrainingRun.Result::secondsToTarget)) : "never",
                100 * median(results, TrainingRun.Result::accuracy),
                String.format(Locale.ROOT, " [%.2f%%]", 100 * latest),
                bytes > 0 ? String.format(Locale.ROOT, " | %,.0f B/example", bytes) : "");
    }

    static double median(List<TrainingRun.Result> results, ToDoubleFunction<TrainingRun.Result> value) {
        double[] values = results.stream().mapToDouble(value).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static String range(List<TrainingRun.Result> results, ToDoubleFunction<TrainingRun.Result> value,
            String format) {
        double[] values = results.stream().mapToDouble(value).sorted().toArray();
        return String.format(Locale.ROOT, format + "-" + format, values[0], values[values.length - 1]);
    }
}
