package io.streambelief.launcher.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.serving.ModelClient;

/**
 * A convolutional network given as a DL4J configuration file, as a user would give it with
 * {@code --model}, trains through the whole system and is served — with one worker exactly as
 * plain DL4J trains it — and on Fashion-MNIST it beats the default MLP trained on the same examples.
 */
class ConvolutionalModelIT {
    private static final long SEED = 13;
    private static final int EXAMPLES = 12_000;

    @TempDir
    Path work;

    @Test
    void aSmallLeNetTrainsAndServesEndToEndAndBeatsTheMlpOnTheSameExamples() throws Exception {
        FashionMnist.Splits splits = FashionMnist.read();
        List<Example> examples = splits.train().shuffled(SEED).take(EXAMPLES).examples();
        List<Example> test = splits.test().take(2_000).examples();
        Path file = Files.writeString(work.resolve("lenet.json"), new NeuralNetConfiguration.Builder().list()
                .layer(new ConvolutionLayer.Builder(5, 5).nOut(8).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .build())
                .layer(new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build().toJson());
        ModelSpec lenet = ModelSpec.parse(file.toString(), SEED);

        double served;
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work.resolve("run")),
                // One worker and whole gradients: sequential training, so that the comparisons are exact.
                bootstrap -> TrainingConfig.builder(bootstrap).spec(lenet).workers(1).seed(SEED)
                        .compression(GradientCompression.NONE).build())) {
            TrainingConfig config = deployment.config();
            try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(), config.topics().examples(),
                    ExampleFormat.BINARY)) {
                feeder.feed(examples, 1, n -> {});
            }
            ModelClient client = new ModelClient(deployment.servingUri(), config.modelId());
            client.awaitExamplesTrained(EXAMPLES, Duration.ofMinutes(4));
            served = client.accuracy(test, "latest");
        }

        TrainingConfig mlp = TrainingConfig.builder("unused").seed(SEED).build();
        double mlpAccuracy = Dl4jBaseline.accuracy(Dl4jBaseline.train(mlp.spec(), mlp.optimizer(), examples,
                mlp.batchSize()), mlp.spec(), test);
        double lenetPlain = Dl4jBaseline.accuracy(Dl4jBaseline.train(lenet, mlp.optimizer(), examples,
                mlp.batchSize()), lenet, test);
        System.out.printf("%,d examples: LeNet through the pipeline %.2f%%, in plain DL4J %.2f%%; %s in plain DL4J "
                + "%.2f%%%n", EXAMPLES, 100 * served, 100 * lenetPlain, mlp.spec().source(), 100 * mlpAccuracy);
        assertThat(served).as("one worker with whole gradients trains as plain DL4J does")
                .isCloseTo(lenetPlain, org.assertj.core.data.Offset.offset(0.005));
        assertThat(served).isGreaterThan(mlpAccuracy);
    }
}
