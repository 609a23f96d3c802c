package io.streambelief.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.DenseNetwork;
import io.streambelief.processes.ChildJvm;

/**
 * What the GPU bundle relies on: the benchmark runs with only the CUDA engine's jars on its
 * classpath — no DL4J, nd4j natives, Flink or Kafka — as infra/gpu-bundle packs it.
 */
class GpuBenchmarkTest {
    @TempDir
    Path dir;

    @Test
    void theBenchmarkRunsWithOnlyTheBundlesJars() throws Exception {
        List<String> bundle = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> entry.contains("model-state") || entry.contains("javacpp-") || entry.contains("/cuda")
                        || entry.contains("picocli") || entry.endsWith("benchmarks/target/classes"))
                .toList();
        assertThat(bundle).noneMatch(entry -> entry.contains("nd4j") || entry.contains("flink") || entry.contains("kafka"));

        Path log = dir.resolve("self-check.log");
        try (ChildJvm jvm = ChildJvm.start("gpu-bench", bundle, List.of("-Xmx256m"), GpuBenchmark.class.getName(),
                List.of("--self-check", "--python", dir.resolve("no-python").toString()), Map.of(), log)) {
            assertThat(jvm.waitFor(Duration.ofSeconds(120))).as(Files.readString(log)).isZero();
        }
        String output = Files.readString(log);
        assertThat(output).contains("engine composition on CPU kernels: ok")
                .contains("plain DL4J: not in this installation")
                .contains("PyTorch: not usable: " + dir.resolve("no-python") + " not found")
                .doesNotContain("NoClassDefFoundError");
    }

    @Test
    void everyEngineStepsThroughTheSameSeededBatches() {
        DenseNetwork network = DenseNetwork.mlp("mlp:6-4-3");
        MiniBatch[] pool = GpuBenchmark.batches(network, 5);
        assertThat(GpuBenchmark.batches(network, 5)[2].features()).containsExactly(pool[2].features());
        assertThat(pool).allSatisfy(batch -> assertThat(Arrays.stream(batch.labels()).allMatch(label -> label >= 0 && label < 3)).isTrue());

        int[] steps = new int[1];
        GradientEngine counting = new GradientEngine() {
            @Override
            public void setParameters(float[] parameters) {}

            @Override
            public GradientStep step(MiniBatch batch, float[] gradient) {
                steps[0]++;
                return new GradientStep(0, 0, batch.size(), gradient);
            }
        };
        double rate = GpuBenchmark.examplesPerSecond(counting, new float[0], pool, 0.05);
        assertThat(steps[0]).as("three warm-up steps, then at least three timed").isGreaterThanOrEqualTo(6);
        assertThat(rate).isPositive();
    }
}
