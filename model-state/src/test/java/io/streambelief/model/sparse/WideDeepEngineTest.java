package io.streambelief.model.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import io.streambelief.model.ModelSpec;

class WideDeepEngineTest {
    private static final int SLOTS = 3;
    private static final int DIM = 4;
    private static final int NUMERICS = 2;
    private static final int SIZE = 5;

    private final WideDeepSpec spec = WideDeepSpec.parse("widedeep:dim=4,mlp=6");
    private final ModelSpec dense = spec.denseSpec(SLOTS, NUMERICS, 11);
    private final Random random = new Random(5);
    private final float[] lookups = randoms(SIZE * SLOTS * (1 + DIM), 0.5);
    private final float[] numerics = randoms(SIZE * NUMERICS, 1);
    private final int[] labels = {1, 0, 0, 1, 0};

    @Test
    void theDenseSpecIsAnOrdinaryMlpWithOneSigmoidOutput() {
        assertEquals("mlp:14-6-1", dense.source());
        assertEquals(new WideDeepSpec(16, List.of(64, 32)), WideDeepSpec.parse(WideDeepSpec.DEFAULT));
        assertEquals(WideDeepSpec.DEFAULT, WideDeepSpec.parse(WideDeepSpec.DEFAULT).toString());
        var bad = assertThrows(IllegalArgumentException.class, () -> WideDeepSpec.parse("widedeep:dim=x"));
        assertTrue(bad.getMessage().contains("not a number"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WideDeepSpec.parse("widedeep:depth=3"));
    }

    @Test
    void rowGradientsAreThoseOfTheSummedLogLossOnTheJointLogit() {
        try (WideDeepEngine engine = new WideDeepEngine(dense, SLOTS, DIM, NUMERICS)) {
            WideDeepEngine.Step step = engine.step(lookups, numerics, labels);
            for (int at : new int[] {0, 1, 3, 5, 7, 12, 20, 31, 44, 60, 74}) {
                double numeric = (summedLoss(engine, lookups, at, 1e-3) - summedLoss(engine, lookups, at, -1e-3)) / 2e-3;
                assertEquals(numeric, step.rowGradients()[at], 2e-3, "d loss / d lookup[" + at + "]");
            }
        }
    }

    @Test
    void theDenseGradientIsThatOfTheMeanLogLoss() {
        float[] parameters = dense.initialParameters();
        try (WideDeepEngine engine = new WideDeepEngine(dense, SLOTS, DIM, NUMERICS)) {
            WideDeepEngine.Step step = engine.step(lookups, numerics, labels);
            assertEquals(meanLoss(engine, lookups), step.loss(), 1e-5);
            for (int at : new int[] {0, 5, 40, 83, parameters.length - 7, parameters.length - 1}) {
                float[] up = parameters.clone();
                up[at] += 1e-3f;
                engine.setParameters(up);
                double lossUp = meanLoss(engine, lookups);
                float[] down = parameters.clone();
                down[at] -= 1e-3f;
                engine.setParameters(down);
                double numeric = (lossUp - meanLoss(engine, lookups)) / 2e-3;
                assertEquals(numeric, step.denseGradient()[at], 2e-3, "d loss / d parameter[" + at + "]");
                engine.setParameters(parameters);
            }
        }
    }

    @Test
    void predictionsAreEvaluatedBeforeTraining() {
        try (WideDeepEngine engine = new WideDeepEngine(dense, SLOTS, DIM, NUMERICS)) {
            float[] predicted = engine.predict(lookups, numerics, SIZE);
            WideDeepEngine.Step step = engine.step(lookups, numerics, labels);
            for (int i = 0; i < SIZE; i++) {
                assertEquals(predicted[i], step.predictions()[i], 1e-6);
            }
        }
    }

    private double meanLoss(WideDeepEngine engine, float[] rows) {
        return summedLoss(engine, rows, 0, 0) / SIZE;
    }

    /** The summed log loss with {@code rows[at]} moved by {@code delta}, from predictions alone. */
    private double summedLoss(WideDeepEngine engine, float[] rows, int at, double delta) {
        float[] moved = rows.clone();
        moved[at] += (float) delta;
        float[] p = engine.predict(moved, numerics, SIZE);
        double loss = 0;
        for (int i = 0; i < SIZE; i++) {
            loss -= labels[i] == 1 ? Math.log(p[i]) : Math.log(1 - p[i]);
        }
        return loss;
    }

    private float[] randoms(int n, double scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }
}
