package io.streambelief.model.sparse;

import io.streambelief.model.optimizer.Optimizer;

/**
 * FTRL-Proximal (McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013,
 * Algorithm 1), per coordinate. Slots: {@code z} and {@code n} (sum of squared gradients). The
 * weight is a function of them, stored next to them only so that a lookup reads it directly:
 * {@code w = 0} when {@code |z| <= l1}, else {@code -(z - sgn(z) l1) / ((beta + sqrt(n)) / alpha + l2)}.
 * L1 keeps rarely useful ids at exactly zero, which is what makes a wide model sparse.
 */
record Ftrl(double alpha, double beta, double l1, double l2) implements RowOptimizer {
    static final double DEFAULT_ALPHA = 0.05;
    static final double DEFAULT_BETA = 1.0;
    static final double DEFAULT_L1 = 0.01;
    static final double DEFAULT_L2 = 0.01;

    Ftrl {
        Optimizer.requirePositive("ftrl", "alpha", alpha);
        if (!(beta >= 0) || !(l1 >= 0) || !(l2 >= 0) || Double.isInfinite(beta + l1 + l2)) {
            throw new IllegalArgumentException("ftrl: beta, l1 and l2 must be finite and >= 0, got " + beta + ", " + l1
                    + ", " + l2);
        }
    }

    @Override
    public int slotCount() {
        return 2;
    }

    @Override
    public void initialize(float[] row, int values, int width) {
        java.util.Arrays.fill(row, values + width, values + 3 * width, 0f);
    }

    @Override
    public void apply(float[] row, int values, int width, float[] gradient, int from) {
        int zs = values + width;
        int ns = values + 2 * width;
        for (int i = 0; i < width; i++) {
            double g = gradient[from + i];
            double w = row[values + i];
            double n = row[ns + i];
            double nNew = n + g * g;
            double sigma = (Math.sqrt(nNew) - Math.sqrt(n)) / alpha;
            double z = row[zs + i] + g - sigma * w;
            row[zs + i] = (float) z;
            row[ns + i] = (float) nNew;
            row[values + i] = (float) weight(z, nNew);
        }
    }

    double weight(double z, double n) {
        if (Math.abs(z) <= l1) {
            return 0;
        }
        return -(z - Math.signum(z) * l1) / ((beta + Math.sqrt(n)) / alpha + l2);
    }

    @Override
    public String toString() {
        return "ftrl:alpha=" + alpha + ",beta=" + beta + ",l1=" + l1 + ",l2=" + l2;
    }
}
