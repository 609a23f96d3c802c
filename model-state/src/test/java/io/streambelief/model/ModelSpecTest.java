package io.streambelief.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelSpecTest {

    @Test
    void mlpPresetDescribesInputsOutputsAndParameterCount() {
        ModelSpec spec = ModelSpec.parse("mlp:784-256-128-10", 42);

        assertThat(spec.numInputs()).isEqualTo(784);
        assertThat(spec.numOutputs()).isEqualTo(10);
        assertThat(spec.numLabels()).isEqualTo(10);
        assertThat(spec.numParams()).isEqualTo(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
        assertThat(spec.seed()).isEqualTo(42);
        assertThat(spec.newNetwork().numParams()).isEqualTo(spec.numParams());
    }

    @Test
    void aSingleOutputIsABinaryModelWithTwoLabels() {
        ModelSpec spec = ModelSpec.parse("mlp:5-1", 1);

        assertThat(spec.numOutputs()).isEqualTo(1);
        assertThat(spec.numLabels()).isEqualTo(2);
    }

    @Test
    void initializationIsDeterministicInTheSeed() {
        float[] a = ModelSpec.parse("mlp:20-8-3", 7).initialParameters();
        float[] b = ModelSpec.parse("mlp:20-8-3", 7).initialParameters();
        float[] c = ModelSpec.parse("mlp:20-8-3", 8).initialParameters();

        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void initializationIsTheSameOnEveryThread() throws Exception {
        ModelSpec spec = ModelSpec.parse("mlp:20-8-3", 7);
        float[][] fromThread = new float[1][];
        Thread thread = new Thread(() -> fromThread[0] = spec.initialParameters());
        thread.start();
        thread.join();

        assertThat(fromThread[0]).containsExactly(spec.initialParameters());
    }

    @Test
    void aDl4jJsonFileIsAModelAndTakesTheGivenSeed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.json");
        Files.writeString(file, ModelSpec.parse("mlp:6-4-2", 1).dl4jJson());

        ModelSpec spec = ModelSpec.parse(file.toString(), 99);

        assertThat(spec.numInputs()).isEqualTo(6);
        assertThat(spec.numOutputs()).isEqualTo(2);
        assertThat(spec.seed()).isEqualTo(99);
        assertThat(spec.source()).isEqualTo(file.toString());
    }

    @Test
    void aPublishedSpecRebuildsTheSameModel() {
        ModelSpec spec = ModelSpec.parse("mlp:6-4-2", 3);

        ModelSpec copy = ModelSpec.of(spec.source(), spec.dl4jJson());

        assertThat(copy).isEqualTo(spec);
        assertThat(copy.initialParameters()).containsExactly(spec.initialParameters());
    }

    @Test
    void badSpecsAreRefusedWithTheFix() {
        assertThatThrownBy(() -> ModelSpec.parse("mlp:784", 1)).hasMessageContaining("at least an input and an output");
        assertThatThrownBy(() -> ModelSpec.parse("mlp:784-x-10", 1)).hasMessageContaining("'x' is not a layer size");
        assertThatThrownBy(() -> ModelSpec.parse("mlp:784-0-10", 1)).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> ModelSpec.parse("resnet50", 1))
                .hasMessageContaining("Unknown model spec 'resnet50'")
                .hasMessageContaining("mlp:784-256-128-10");
    }

    @Test
    void aFileThatIsNotDl4jJsonIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.json");
        Files.writeString(file, "{\"not\": \"a network\"}");

        assertThatThrownBy(() -> ModelSpec.parse(file.toString(), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a DL4J MultiLayerConfiguration JSON");
    }

    /** A small LeNet for Fashion-MNIST, as a user would write it: the input type says the 784 features are an image. */
    static String lenetJson(boolean withInputType) {
        var builder = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(1).list()
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(5, 5).nIn(1).nOut(8)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.SubsamplingLayer.Builder(
                        org.deeplearning4j.nn.conf.layers.SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(64)
                        .activation(org.nd4j.linalg.activations.Activation.RELU).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                        org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build());
        if (withInputType) {
            builder.setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutionalFlat(28, 28, 1));
        } else {
            builder.layer(2, new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(1152).nOut(64)
                    .activation(org.nd4j.linalg.activations.Activation.RELU).build());
            builder.layer(3, new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                    org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nIn(64).nOut(10)
                    .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build());
        }
        return builder.build().toJson();
    }

    @Test
    void aConvolutionalModelTakesTheFeaturesItsInputTypeFlattensTo(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("lenet.json"), lenetJson(true));

        ModelSpec spec = ModelSpec.parse(file.toString(), 3);

        assertThat(spec.numInputs()).isEqualTo(784);
        assertThat(spec.numOutputs()).isEqualTo(10);
        assertThat(spec.initialParameters()).hasSize(8 * 25 + 8 + 1152 * 64 + 64 + 64 * 10 + 10);
        assertThatThrownBy(spec::denseNetwork).as("what our own engines cannot run is named")
                .hasMessageContaining("layer 0 (ConvolutionLayer)");
    }

    @Test
    void aConvolutionalModelWithoutAnInputTypeIsRefusedWithTheFix(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("lenet.json"), lenetJson(false));

        assertThatThrownBy(() -> ModelSpec.parse(file.toString(), 3))
                .hasMessageContaining("ConvolutionLayer").hasMessageContaining("InputType.convolutionalFlat");
    }
}
