package io.streambelief.model.sparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RowOptimizerTest {
    private static final float[] GRADIENTS = {0.5f, -1.25f, 0.125f, 2f, -0.75f, 0.01f};

    @Test
    void ftrlFollowsMcMahansAlgorithmOneStepByStep() {
        double alpha = 0.1;
        double beta = 1;
        double l1 = 0.2;
        double l2 = 0.05;
        RowOptimizer ftrl = RowOptimizer.parse("ftrl:alpha=0.1,beta=1,l1=0.2,l2=0.05");
        float[] row = new float[3];
        ftrl.initialize(row, 0, 1);
        // The reference, written from the paper's pseudo-code in doubles.
        double z = 0;
        double n = 0;
        for (float g : GRADIENTS) {
            double w = Math.abs(z) <= l1 ? 0 : -(z - Math.signum(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);
            double sigma = (Math.sqrt(n + g * g) - Math.sqrt(n)) / alpha;
            z += g - sigma * w;
            n += g * g;
            double wNext = Math.abs(z) <= l1 ? 0 : -(z - Math.signum(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);

            ftrl.apply(row, 0, 1, new float[] {g}, 0);
            assertEquals(wNext, row[0], 1e-6, "weight after gradient " + g);
            assertEquals(z, row[1], 1e-5, "z after gradient " + g);
            assertEquals(n, row[2], 1e-5, "n after gradient " + g);
        }
    }

    @Test
    void ftrlKeepsWeightsAtExactlyZeroWithinL1() {
        RowOptimizer ftrl = RowOptimizer.parse("ftrl:l1=10");
        float[] row = new float[3];
        ftrl.apply(row, 0, 1, new float[] {0.3f}, 0);
        ftrl.apply(row, 0, 1, new float[] {0.4f}, 0);
        assertEquals(0f, row[0]);
        assertTrue(row[1] > 0, "z still accumulates");
    }

    @Test
    void adagradFollowsItsDefinitionStepByStep() {
        RowOptimizer adagrad = RowOptimizer.parse("adagrad:lr=0.2,init=0.1");
        int width = 2;
        float[] row = {0.3f, -0.4f, 0, 0};
        adagrad.initialize(row, 0, width);
        double[] w = {0.3, -0.4};
        double[] h = {0.1, 0.1};
        for (int step = 0; step + 1 < GRADIENTS.length; step += 2) {
            float[] gradient = {GRADIENTS[step], GRADIENTS[step + 1]};
            for (int i = 0; i < width; i++) {
                h[i] += gradient[i] * gradient[i];
                w[i] -= 0.2 * gradient[i] / Math.sqrt(h[i]);
            }
            adagrad.apply(row, 0, width, gradient, 0);
            for (int i = 0; i < width; i++) {
                assertEquals(w[i], row[i], 1e-6);
                assertEquals(h[i], row[width + i], 1e-6);
            }
        }
    }

    @Test
    void optimizersWorkOnTheirPartOfARowOnly() {
        RowOptimizer adagrad = RowOptimizer.parse("adagrad");
        float[] row = {7, 1, 2, 0.1f, 0.1f, 9};
        adagrad.apply(row, 1, 2, new float[] {0, 0, 1, 1}, 2);
        assertEquals(7f, row[0]);
        assertEquals(9f, row[5]);
        assertTrue(row[1] < 1 && row[2] < 2);
    }

    @Test
    void badSpecsSayWhatIsAccepted() {
        var unknown = assertThrows(IllegalArgumentException.class, () -> RowOptimizer.parse("adam"));
        assertTrue(unknown.getMessage().contains("ftrl"), unknown.getMessage());
        var setting = assertThrows(IllegalArgumentException.class, () -> RowOptimizer.parse("ftrl:gamma=1"));
        assertTrue(setting.getMessage().contains("gamma"), setting.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RowOptimizer.parse("ftrl:alpha=-1"));
    }
}
