package io.streambelief.model.optimizer;

import org.nd4j.linalg.learning.config.IUpdater;

/** Plain SGD; see {@link Optimizer#sgd}. */
record Sgd(double learningRate) implements Optimizer {
    static final double DEFAULT_LEARNING_RATE = 0.1;

    Sgd {
        Optimizer.requirePositive("sgd", "learning rate", learningRate);
    }

    @Override
    public int slotCount() {
        return 0;
    }

    @Override
    public void apply(float[] values, float[][] slots, float[] gradient, int from, int to, long step) {
        float lr = (float) learningRate;
        for (int i = from; i < to; i++) {
            values[i] -= lr * gradient[i];
        }
    }

    @Override
    public IUpdater toDl4jUpdater() {
        return new org.nd4j.linalg.learning.config.Sgd(learningRate);
    }

    @Override
    public String toString() {
        return "sgd:lr=" + learningRate;
    }
}
