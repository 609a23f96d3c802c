package io.streambelief.model.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.TestBatches;

class Dl4jGradientEngineTest {
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:12-10-3", 9);

    @Test
    void stepEvaluatesTheParametersItWasGivenThenGivesTheirMeanGradient() {
        MiniBatch batch = TestBatches.random(SPEC, 32, 1);
        DataSet data = TestBatches.toDataSet(SPEC, batch);
        MultiLayerNetwork reference = SPEC.newNetwork();
        float[] params = reference.params().toFloatVector();
        for (int i = 0; i < params.length; i++) {
            params[i] *= 1.5f;
        }
        reference.setParams(org.nd4j.linalg.factory.Nd4j.createFromArray(params).reshape(1, params.length));

        try (GradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            engine.setParameters(params);
            GradientStep step = engine.step(batch);

            assertThat(step.size()).isEqualTo(32);
            assertThat(step.loss()).isCloseTo(reference.score(data, false), within(1e-5));
            assertThat(step.correct()).isEqualTo(correctByArgmax(reference.output(data.getFeatures()), batch.labels()));
            reference.setInput(data.getFeatures());
            reference.setLabels(data.getLabels());
            reference.computeGradientAndScore();
            float[] summed = reference.getFlattenedGradients().toFloatVector();
            for (int i = 0; i < summed.length; i++) {
                assertThat(step.gradient()[i]).as("mean gradient %d", i).isCloseTo(summed[i] / 32, within(1e-7f));
            }
        }
    }

    @Test
    void aBinaryModelCountsCorrectAtHalfProbability() {
        ModelSpec binary = ModelSpec.parse("mlp:4-1", 3);
        MiniBatch batch = TestBatches.random(binary, 50, 2);
        MultiLayerNetwork reference = binary.newNetwork();
        float[] p = reference.output(TestBatches.toDataSet(binary, batch).getFeatures()).toFloatVector();
        int expected = 0;
        for (int i = 0; i < p.length; i++) {
            if ((p[i] >= 0.5f ? 1 : 0) == batch.labels()[i]) {
                expected++;
            }
        }

        try (GradientEngine engine = new Dl4jGradientEngine(binary)) {
            assertThat(engine.step(batch).correct()).isEqualTo(expected);
        }
    }

    @Test
    void refusesParametersOfTheWrongSize() {
        try (GradientEngine engine = new Dl4jGradientEngine(SPEC)) {
            assertThatThrownBy(() -> engine.setParameters(new float[3])).hasMessageContaining("got 3");
        }
    }

    private static int correctByArgmax(INDArray probabilities, int[] labels) {
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            if (probabilities.getRow(i).argMax().getInt(0) == labels[i]) {
                correct++;
            }
        }
        return correct;
    }
}
