package io.streambelief.flink.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.model.Example;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.parameters.ParameterShard;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.trainer.Trainer;

/**
 * The default gradient compression costs no accuracy that matters: on Fashion-MNIST, the default
 * model trained with it ends within half a point of the same model trained on whole gradients.
 * A worker's loop (the {@link Trainer}) and its parameter shards run in-process here, the shards
 * answering every push at once, so that the two runs differ in compression only.
 */
class CompressedTrainingTest {
    private static final int EXAMPLES = 20_000;
    private static List<Example> train;
    private static List<Example> test;

    @BeforeAll
    static void readData() throws Exception {
        FashionMnist.Splits splits = FashionMnist.read();
        train = splits.train().shuffled(3).take(EXAMPLES).examples();
        test = splits.test().examples();
    }

    @Test
    void theDefaultCompressionEndsWithinHalfAPointOfWholeGradients() {
        TrainingConfig config = TrainingConfig.builder("unused:9092").build();
        assertThat(config.compression()).as("the default compresses").isEqualTo(TrainingConfig.DEFAULT_COMPRESSION);

        double whole = accuracyAfterTraining(config.toBuilder().compression(GradientCompression.NONE).build());
        double compressed = accuracyAfterTraining(config);

        System.out.printf("Fashion-MNIST, %,d examples: whole gradients %.2f%%, %s %.2f%%%n", EXAMPLES, 100 * whole,
                config.compression(), 100 * compressed);
        assertThat(whole).as("the reference learns").isGreaterThan(0.8);
        assertThat(compressed).isGreaterThanOrEqualTo(whole - 0.005);
    }

    private static double accuracyAfterTraining(TrainingConfig config) {
        ParameterLayout layout = config.layout();
        float[] initial = config.spec().initialParameters();
        ParameterShard[] servers = new ParameterShard[layout.shardCount()];
        for (int shard = 0; shard < servers.length; shard++) {
            servers[shard] = ParameterShard.initial(shard, layout.slice(initial, shard), config.optimizer());
        }
        List<GradientSlice> pushed = new ArrayList<>();
        try (GradientEngine engine = new Dl4jGradientEngine(config.spec())) {
            Trainer trainer = new Trainer(config.trainerSettings(), layout, 0, config.spec().numInputs(),
                    ModelReplica.initial(initial, layout, config.optimizer(), 0), engine, List.of(), pushed::add);
            for (Example example : train) {
                if (trainer.add(example)) {
                    trainer.trainBatch();
                    pushed.forEach(slice -> servers[slice.shardId()].apply(slice));
                    pushed.clear();
                    for (ParameterShard server : servers) {
                        trainer.receive(server.toUpdate(config.modelId(), 0));
                    }
                }
            }
            float[] values = new float[layout.numParams()];
            for (ParameterShard server : servers) {
                layout.place(values, server.shardId(), server.toState().values());
            }
            engine.setParameters(values);
            int correct = 0;
            for (int from = 0; from < test.size(); from += 1_000) {
                List<Example> chunk = test.subList(from, Math.min(from + 1_000, test.size()));
                MiniBatch.Builder batch = MiniBatch.builder(chunk.size(), config.spec().numInputs());
                chunk.forEach(batch::add);
                correct += engine.step(batch.build()).correct();
            }
            return (double) correct / test.size();
        }
    }
}
