package io.streambelief.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.flink.util.FileUtils;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code infra/bench <benchmark>}: every benchmark measures plain single-process DL4J in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {TrainingBenchmark.class, FederatedBenchmark.class, StageCosts.class, RecoveryBenchmark.class, ServingBenchmark.class,
        SparseBenchmark.class, GpuBenchmark.class, ChaosBenchmark.class},
        description = "Benchmarks of Streambelief against plain single-process DL4J, measured in the same run.")
public final class Bench {
    private Bench() {}

    /** A benchmark's scratch directory, emptied of what an earlier run left. */
    static Path emptied(Path dir) throws IOException {
        FileUtils.deleteDirectory(dir.toFile());
        return Files.createDirectories(dir);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Bench()).execute(args));
    }
}
