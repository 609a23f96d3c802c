package io.streambelief.model.engine.dense;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import io.streambelief.model.DenseNetwork;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.TestBatches;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;

/**
 * The composition of primitives computes what DL4J computes: the same mean loss, the same hits
 * and the same gradient (to 1e-4) for every supported layer, activation and loss, from the same
 * parameters. The CUDA engine is this composition over other primitives, and runs these same
 * tests where a GPU is usable ({@code CudaDenseEngineTest}).
 */
public class DenseEngineTest {

    /** The primitives under test. */
    protected Kernels newKernels() {
        return new CpuKernels();
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"mlp:12-10-3", "mlp:784-32-16-10", "mlp:4-1", "mlp:6-5-1", "mlp:7-4"})
    void gradientsOfPresetsMatchDl4j(String preset) {
        assertMatchesDl4j(ModelSpec.parse(preset, 11), 32);
    }

    @Test
    void everyHiddenActivationMatchesDl4j() throws Exception {
        for (Activation activation : new Activation[] {Activation.TANH, Activation.SIGMOID, Activation.IDENTITY,
                Activation.RELU}) {
            String json = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT).updater(new NoOp())
                    .list()
                    .layer(new DenseLayer.Builder().nIn(9).nOut(8).activation(activation).weightInit(WeightInit.XAVIER)
                            .build())
                    .layer(new DenseLayer.Builder().nIn(8).nOut(6).activation(Activation.TANH)
                            .weightInit(WeightInit.XAVIER).build())
                    .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(6).nOut(4).activation(Activation.SOFTMAX)
                            .build())
                    .build().toJson();
            Path file = Files.writeString(dir.resolve(activation + ".json"), json);
            ModelSpec spec = ModelSpec.parse(file.toString(), 5);
            assertThat(spec.denseNetwork().layers().get(0).activation().name()).isEqualTo(activation.name());
            assertMatchesDl4j(spec, 20);
        }
    }

    @Test
    void aBatchLargerThanAnyBeforeAndThenASmallerOneStillMatch() {
        ModelSpec spec = ModelSpec.parse("mlp:12-10-3", 4);
        try (DenseEngine engine = new DenseEngine(spec.denseNetwork(), newKernels())) {
            engine.setParameters(scaled(spec.initialParameters()));
            for (int size : new int[] {5, 40, 7}) {
                MiniBatch batch = TestBatches.random(spec, size, size);
                assertSameStep(reference(spec, batch), engine.step(batch), spec.source());
            }
        }
    }

    @Test
    void aStepCanWriteItsGradientIntoTheCallersArray() {
        ModelSpec spec = ModelSpec.parse("mlp:12-10-3", 4);
        MiniBatch batch = TestBatches.random(spec, 16, 1);
        try (DenseEngine engine = new DenseEngine(spec.denseNetwork(), newKernels());
                Dl4jGradientEngine dl4j = new Dl4jGradientEngine(spec)) {
            engine.setParameters(scaled(spec.initialParameters()));
            dl4j.setParameters(scaled(spec.initialParameters()));
            float[] into = new float[(int) spec.numParams()];
            java.util.Arrays.fill(into, Float.NaN);
            GradientStep step = engine.step(batch, into);
            assertThat(step.gradient()).isSameAs(into);
            float[] dl4jInto = new float[into.length];
            assertThat(dl4j.step(batch, dl4jInto).gradient()).isSameAs(dl4jInto);
            assertSameStep(new GradientStep(step.loss(), step.correct(), step.size(), dl4jInto), step, spec.source());
            assertThatThrownBy(() -> engine.step(batch, new float[3])).hasMessageContaining("Gradient array of 3 floats");
        }
    }

    @Test
    void thePresetParsedWithoutDl4jIsTheNetworkDl4jBuilds() {
        for (String preset : new String[] {"mlp:784-256-128-10", "mlp:4-1", "mlp:4096-4096-1000"}) {
            assertThat(DenseNetwork.mlp(preset)).isEqualTo(ModelSpec.parse(preset, 1).denseNetwork());
            assertThat(DenseNetwork.mlp(preset).numParams()).isEqualTo(ModelSpec.parse(preset, 1).numParams());
        }
    }

    @Test
    void unsupportedLayersAreRefusedSayingWhich() throws Exception {
        String json = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT).l2(1e-4).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(3).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(3).nOut(2).activation(Activation.SOFTMAX).build())
                .build().toJson();
        ModelSpec regularized = ModelSpec.parse(Files.writeString(dir.resolve("l2.json"), json).toString(), 5);
        assertThatThrownBy(regularized::denseNetwork).hasMessageContaining("layer 0")
                .hasMessageContaining("regularization");

        String mse = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT).list()
                .layer(new OutputLayer.Builder(LossFunction.MSE).nIn(3).nOut(2).activation(Activation.IDENTITY).build())
                .build().toJson();
        ModelSpec regression = ModelSpec.parse(Files.writeString(dir.resolve("mse.json"), mse).toString(), 5);
        assertThatThrownBy(regression::denseNetwork).hasMessageContaining("not supported")
                .hasMessageContaining("softmax with MCXENT");
    }

    @Test
    void labelsOutOfRangeAndWrongWidthsAreRefused() {
        ModelSpec spec = ModelSpec.parse("mlp:4-3", 1);
        try (DenseEngine engine = new DenseEngine(spec.denseNetwork(), newKernels())) {
            MiniBatch badLabel = new MiniBatch(1, 4, new float[4], new int[] {3});
            assertThatThrownBy(() -> engine.step(badLabel)).hasMessageContaining("Label 3 is out of range");
            MiniBatch negative = new MiniBatch(1, 4, new float[4], new int[] {-1});
            assertThatThrownBy(() -> engine.step(negative)).hasMessageContaining("Label -1 is out of range");
            assertThatThrownBy(() -> engine.step(new MiniBatch(1, 5, new float[5], new int[] {0})))
                    .hasMessageContaining("takes 4");
            assertThatThrownBy(() -> engine.setParameters(new float[3])).hasMessageContaining("has 15 parameters");
        }
    }

    @Test
    void flopsCountTheForwardAndBackwardProducts() {
        // 2 flops per multiply-add: forward and weight gradient for both layers, input gradient for the second.
        assertThat(DenseNetwork.mlp("mlp:10-20-5").flopsPerExample()).isEqualTo(2 * (10 * 20 * 2 + 20 * 5 * 3));
    }

    private void assertMatchesDl4j(ModelSpec spec, int batchSize) {
        // Scaled parameters so that no gradient is tiny by chance of the initialization.
        float[] params = scaled(spec.initialParameters());
        MiniBatch batch = TestBatches.random(spec, batchSize, 3);
        GradientStep expected;
        try (Dl4jGradientEngine dl4j = new Dl4jGradientEngine(spec)) {
            dl4j.setParameters(params);
            expected = dl4j.step(batch);
        }
        try (DenseEngine engine = new DenseEngine(spec.denseNetwork(), newKernels())) {
            engine.setParameters(params);
            assertSameStep(expected, engine.step(batch), spec.source());
        }
    }

    private static GradientStep reference(ModelSpec spec, MiniBatch batch) {
        try (Dl4jGradientEngine dl4j = new Dl4jGradientEngine(spec)) {
            dl4j.setParameters(scaled(spec.initialParameters()));
            return dl4j.step(batch);
        }
    }

    static void assertSameStep(GradientStep expected, GradientStep actual, String model) {
        assertThat(actual.size()).isEqualTo(expected.size());
        assertThat(actual.loss()).as("%s loss", model).isCloseTo(expected.loss(), within(1e-4 * Math.max(1, expected.loss())));
        assertThat(actual.correct()).as("%s hits", model).isEqualTo(expected.correct());
        assertThat(actual.gradient()).hasSameSizeAs(expected.gradient());
        for (int i = 0; i < expected.gradient().length; i++) {
            assertThat(actual.gradient()[i]).as("%s gradient %d", model, i)
                    .isCloseTo(expected.gradient()[i], within(1e-4f));
        }
    }

    private static float[] scaled(float[] params) {
        Random random = new Random(7);
        for (int i = 0; i < params.length; i++) {
            params[i] = params[i] * 1.5f + (float) random.nextGaussian() * 0.01f;
        }
        return params;
    }
}
