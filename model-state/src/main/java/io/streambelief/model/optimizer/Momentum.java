package io.streambelief.model.optimizer;

import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * SGD with Nesterov momentum, as DL4J's {@link Nesterovs} updater computes it; see
 * {@link Optimizer#momentum}. Slot 0 is the velocity.
 */
record Momentum(double learningRate, double momentum) implements Optimizer {
    static final double DEFAULT_LEARNING_RATE = 0.01;
    static final double DEFAULT_MOMENTUM = Nesterovs.DEFAULT_NESTEROV_MOMENTUM;

    Momentum {
        Optimizer.requirePositive("momentum", "learning rate", learningRate);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum: mu must be in [0, 1), got " + momentum);
        }
    }

    @Override
    public int slotCount() {
        return 1;
    }

    @Override
    public void apply(float[] values, float[][] slots, float[] gradient, int from, int to, long step) {
        float[] velocity = slots[0];
        float lr = (float) learningRate;
        float mu = (float) momentum;
        float muPlusOne = mu + 1;
        for (int i = from; i < to; i++) {
            float previous = mu * velocity[i];
            float v = previous - lr * gradient[i];
            velocity[i] = v;
            values[i] -= previous - muPlusOne * v;
        }
    }

    @Override
    public IUpdater toDl4jUpdater() {
        return new Nesterovs(learningRate, momentum);
    }

    @Override
    public String toString() {
        return "momentum:lr=" + learningRate + ",mu=" + momentum;
    }
}
