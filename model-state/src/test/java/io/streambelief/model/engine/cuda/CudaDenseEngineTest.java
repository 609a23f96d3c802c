package io.streambelief.model.engine.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.engine.dense.CpuKernels;
import io.streambelief.model.engine.dense.DenseEngine;
import io.streambelief.model.DenseNetwork;
import io.streambelief.model.DenseNetwork.Activation;
import io.streambelief.model.DenseNetwork.Layer;
import io.streambelief.model.DenseNetwork.Loss;

/**
 * The whole engine on CUDA primitives computes what it computes on the CPU primitives — loss,
 * hits and every gradient component — for every activation and loss, batch sizes that grow and
 * shrink, and gradients written into the caller's array. {@code DenseEngineTest} holds the CPU
 * composition to DL4J's gradients on every build, so the chain reaches DL4J without DL4J on the
 * classpath: GPU hosts run this from the GPU bundle ({@code run-gpu-tests}), which carries no
 * DL4J natives. Skipped, with the probe's reason, where no GPU is usable.
 */
class CudaDenseEngineTest {

    @BeforeEach
    void needsAGpu() {
        CudaRuntime.Availability cuda = CudaRuntime.probe();
        assumeTrue(cuda.usable(), () -> "skipped: CUDA is not usable here: " + cuda.reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"mlp:12-10-3", "mlp:784-32-16-10", "mlp:4-1", "mlp:6-5-1", "mlp:7-4",
            "mlp:784-256-128-10", "mlp:1100-700-300-1000"})
    void presetsMatchTheCpu(String preset) {
        DenseNetwork network = DenseNetwork.mlp(preset);
        assertSameOnBoth(network, List.of(32, 300));
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void everyHiddenActivationMatchesTheCpu(Activation activation) {
        for (Loss loss : Loss.values()) {
            int outputs = loss == Loss.SIGMOID_CROSS_ENTROPY ? 1 : 4;
            DenseNetwork network = new DenseNetwork(List.of(new Layer(9, 8, activation), new Layer(8, 6, activation),
                    new Layer(6, outputs, Activation.IDENTITY)), loss);
            assertSameOnBoth(network, List.of(20));
        }
    }

    @Test
    void aBatchLargerThanAnyBeforeAndThenASmallerOneStillMatch() {
        assertSameOnBoth(DenseNetwork.mlp("mlp:12-10-3"), List.of(5, 40, 7, 1, 1025));
    }

    @Test
    void aStepWritesItsGradientIntoTheCallersArray() {
        DenseNetwork network = DenseNetwork.mlp("mlp:12-10-3");
        float[] params = parameters(network);
        MiniBatch batch = batch(network, 16, 1);
        try (DenseEngine cpu = new DenseEngine(network, new CpuKernels());
                DenseEngine cuda = new DenseEngine(network, new CudaKernels(0))) {
            cpu.setParameters(params);
            cuda.setParameters(params);
            float[] into = new float[params.length];
            java.util.Arrays.fill(into, Float.NaN);
            GradientStep step = cuda.step(batch, into);
            assertThat(step.gradient()).isSameAs(into);
            assertSameStep(cpu.step(batch), step, network + " into");
            assertThatThrownBy(() -> cuda.step(batch, new float[3])).hasMessageContaining("Gradient array of 3 floats");
        }
    }

    @Test
    void labelsOutOfRangeAndWrongWidthsAreRefused() {
        DenseNetwork network = DenseNetwork.mlp("mlp:4-3");
        try (DenseEngine engine = new DenseEngine(network, new CudaKernels(0))) {
            assertThatThrownBy(() -> engine.step(new MiniBatch(1, 4, new float[4], new int[] {3})))
                    .hasMessageContaining("Label 3 is out of range");
            assertThatThrownBy(() -> engine.step(new MiniBatch(1, 4, new float[4], new int[] {-1})))
                    .hasMessageContaining("Label -1 is out of range");
            assertThatThrownBy(() -> engine.step(new MiniBatch(1, 5, new float[5], new int[] {0})))
                    .hasMessageContaining("takes 4");
            assertThatThrownBy(() -> engine.setParameters(new float[3])).hasMessageContaining("has 15 parameters");
            // A refused batch leaves the engine usable.
            MiniBatch good = batch(network, 8, 2);
            engine.setParameters(parameters(network));
            assertThat(engine.step(good).size()).isEqualTo(8);
        }
    }

    /** One engine per kind of primitive, stepped through the same batches from the same parameters. */
    private static void assertSameOnBoth(DenseNetwork network, List<Integer> batchSizes) {
        float[] params = parameters(network);
        try (DenseEngine cpu = new DenseEngine(network, new CpuKernels());
                DenseEngine cuda = new DenseEngine(network, new CudaKernels(0))) {
            cpu.setParameters(params);
            cuda.setParameters(params);
            for (int size : batchSizes) {
                MiniBatch batch = batch(network, size, size);
                assertSameStep(cpu.step(batch), cuda.step(batch), network + " batch " + size);
            }
        }
    }

    /** As DenseEngineTest compares with DL4J: loss to 1e-4 relative, hits exactly, each gradient component to 1e-4. */
    private static void assertSameStep(GradientStep expected, GradientStep actual, String what) {
        assertThat(actual.size()).isEqualTo(expected.size());
        assertThat(actual.loss()).as("%s loss", what).isCloseTo(expected.loss(), within(1e-4 * Math.max(1, expected.loss())));
        assertThat(actual.correct()).as("%s hits", what).isEqualTo(expected.correct());
        assertThat(actual.gradient()).hasSameSizeAs(expected.gradient());
        for (int i = 0; i < expected.gradient().length; i++) {
            assertThat(actual.gradient()[i]).as("%s gradient %d", what, i).isCloseTo(expected.gradient()[i], within(1e-4f));
        }
    }

    /** Glorot weights scaled up and noise on every parameter, biases included, so that no gradient is tiny by chance. */
    private static float[] parameters(DenseNetwork network) {
        float[] params = network.randomParameters(11);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < params.length; i++) {
            params[i] = params[i] * 1.5f + (float) (random.nextDouble() - 0.5) * 0.02f;
        }
        return params;
    }

    private static MiniBatch batch(DenseNetwork network, int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int classes = network.loss() == Loss.SIGMOID_CROSS_ENTROPY ? 2 : network.numOutputs();
        float[] features = new float[size * network.numInputs()];
        for (int i = 0; i < features.length; i++) {
            features[i] = (float) random.nextDouble();
        }
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) {
            labels[i] = random.nextInt(classes);
        }
        return new MiniBatch(size, network.numInputs(), features, labels);
    }
}
