package io.streambelief.model.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.optimizer.Optimizer;

class Dl4jBaselineTest {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:2-16-3", 1);

    @Test
    void oneOrderedPassLearnsASeparableProblem() {
        List<Example> train = quadrants(3_000, 1);
        List<Example> test = quadrants(500, 2);

        MultiLayerNetwork network = Dl4jBaseline.train(SPEC, Optimizer.parse("adagrad:lr=0.1"), train, 16);

        assertThat(Dl4jBaseline.accuracy(network, SPEC, test)).isGreaterThan(0.9);
    }

    @Test
    void itStartsFromTheSpecsInitialParametersLikeTheParameterServers() {
        MultiLayerNetwork untrained = Dl4jBaseline.train(SPEC, Optimizer.parse("sgd:lr=0.1"), List.of(), 16);

        assertThat(NativeArrays.copyOut(untrained.params())).containsExactly(SPEC.initialParameters());
    }

    /** Label: 0 left half, 1 upper right, 2 lower right. */
    private static List<Example> quadrants(int n, long seed) {
        Random random = new Random(seed);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float x = random.nextFloat() * 2 - 1;
            float y = random.nextFloat() * 2 - 1;
            examples.add(new Example(new float[] {x, y}, x < 0 ? 0 : y > 0 ? 1 : 2));
        }
        return examples;
    }
}
