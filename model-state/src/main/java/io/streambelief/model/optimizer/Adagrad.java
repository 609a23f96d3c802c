package io.streambelief.model.optimizer;

import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Adagrad; see {@link Optimizer#adagrad}. Slot 0 is the running sum of squared gradients. As in
 * DL4J, it starts at 1e-6 (DL4J's default epsilon, whatever epsilon is configured) rather than
 * zero, so the first step of a tiny gradient is not a full-size sign step.
 */
record Adagrad(double learningRate, double epsilon) implements Optimizer {
    static final double DEFAULT_LEARNING_RATE = 0.01;
    static final double DEFAULT_EPSILON = AdaGrad.DEFAULT_ADAGRAD_EPSILON;
    private static final double INITIAL_HISTORY = AdaGrad.DEFAULT_ADAGRAD_EPSILON;

    Adagrad {
        Optimizer.requirePositive("adagrad", "learning rate", learningRate);
        Optimizer.requirePositive("adagrad", "epsilon", epsilon);
    }

    @Override
    public int slotCount() {
        return 1;
    }

    @Override
    public void initializeSlots(float[][] slots) {
        java.util.Arrays.fill(slots[0], (float) INITIAL_HISTORY);
    }

    @Override
    public void apply(float[] values, float[][] slots, float[] gradient, int from, int to, long step) {
        float[] history = slots[0];
        float lr = (float) learningRate;
        float eps = (float) epsilon;
        for (int i = from; i < to; i++) {
            float g = gradient[i];
            float h = history[i] + g * g;
            history[i] = h;
            values[i] -= lr * g / ((float) Math.sqrt(h) + eps);
        }
    }

    @Override
    public boolean boundsEachStep() {
        return true;
    }

    @Override
    public IUpdater toDl4jUpdater() {
        return new AdaGrad(learningRate, epsilon);
    }

    @Override
    public String toString() {
        return "adagrad:lr=" + learningRate + ",eps=" + epsilon;
    }
}
