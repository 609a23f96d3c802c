package io.streambelief.model.optimizer;

import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Adam (Kingma and Ba, 2015), as DL4J's Adam updater computes it; see {@link Optimizer#adam}.
 * Slot 0 is the first moment, slot 1 the second. The bias correction uses the shard's own step
 * count, which is what a shard knows.
 */
record Adam(double learningRate, double beta1, double beta2, double epsilon) implements Optimizer {
    static final double DEFAULT_LEARNING_RATE = org.nd4j.linalg.learning.config.Adam.DEFAULT_ADAM_LEARNING_RATE;
    static final double DEFAULT_BETA1 = org.nd4j.linalg.learning.config.Adam.DEFAULT_ADAM_BETA1_MEAN_DECAY;
    static final double DEFAULT_BETA2 = org.nd4j.linalg.learning.config.Adam.DEFAULT_ADAM_BETA2_VAR_DECAY;
    static final double DEFAULT_EPSILON = org.nd4j.linalg.learning.config.Adam.DEFAULT_ADAM_EPSILON;

    Adam {
        Optimizer.requirePositive("adam", "learning rate", learningRate);
        Optimizer.requirePositive("adam", "epsilon", epsilon);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("adam: beta1 and beta2 must be in [0, 1), got " + beta1 + ", " + beta2);
        }
    }

    @Override
    public int slotCount() {
        return 2;
    }

    @Override
    public void apply(float[] values, float[][] slots, float[] gradient, int from, int to, long step) {
        float[] m = slots[0];
        float[] u = slots[1];
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float eps = (float) epsilon;
        // DL4J folds both bias corrections into the step size, computed once per update.
        float b1t = (float) Math.pow(beta1, step);
        float b2t = (float) Math.pow(beta2, step);
        float stepSize = (float) learningRate * (float) Math.sqrt(1f - b2t) / (1f - b1t);
        if (!Float.isFinite(stepSize) || stepSize == 0) {
            stepSize = eps;
        }
        for (int i = from; i < to; i++) {
            float g = gradient[i];
            float mi = b1 * m[i] + g * (1 - b1);
            float ui = b2 * u[i] + g * g * (1 - b2);
            m[i] = mi;
            u[i] = ui;
            values[i] -= mi * stepSize / ((float) Math.sqrt(ui) + eps);
        }
    }

    @Override
    public boolean boundsEachStep() {
        return true;
    }

    @Override
    public IUpdater toDl4jUpdater() {
        return new org.nd4j.linalg.learning.config.Adam(learningRate, beta1, beta2, epsilon);
    }

    @Override
    public String toString() {
        return "adam:lr=" + learningRate + ",beta1=" + beta1 + ",beta2=" + beta2 + ",eps=" + epsilon;
    }
}
