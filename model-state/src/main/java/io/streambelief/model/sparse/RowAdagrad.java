package io.streambelief.model.sparse;

import io.streambelief.model.optimizer.Optimizer;

/**
 * Adagrad for rows: {@code h += g^2; w -= lr * g / sqrt(h)}, with the accumulator starting at
 * {@code init} (TensorFlow's default, 0.1) so that a row's first step is not a full sign step.
 * One slot: the accumulator.
 */
record RowAdagrad(double learningRate, double initialAccumulator) implements RowOptimizer {
    static final double DEFAULT_LEARNING_RATE = 0.05;
    static final double DEFAULT_INITIAL_ACCUMULATOR = 0.1;

    RowAdagrad {
        Optimizer.requirePositive("adagrad", "learning rate", learningRate);
        Optimizer.requirePositive("adagrad", "initial accumulator", initialAccumulator);
    }

    @Override
    public int slotCount() {
        return 1;
    }

    @Override
    public void initialize(float[] row, int values, int width) {
        java.util.Arrays.fill(row, values + width, values + 2 * width, (float) initialAccumulator);
    }

    @Override
    public void apply(float[] row, int values, int width, float[] gradient, int from) {
        int history = values + width;
        float lr = (float) learningRate;
        for (int i = 0; i < width; i++) {
            float g = gradient[from + i];
            float h = row[history + i] + g * g;
            row[history + i] = h;
            row[values + i] -= lr * g / (float) Math.sqrt(h);
        }
    }

    @Override
    public String toString() {
        return "adagrad:lr=" + learningRate + ",init=" + initialAccumulator;
    }
}
