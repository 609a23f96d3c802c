package io.streambelief.federated;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;

import io.streambelief.model.Example;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.federated.UpdateClipping;
import io.streambelief.model.optimizer.Optimizer;

/**
 * What a client does with the global model and its own examples: {@code epochs} passes of
 * mini-batch training with the same gradient engines as the training job's workers, then the
 * change from the global model, clipped to {@code clipNorm} so that no client can move the model
 * further than that (what central DP's noise is calibrated to). Only that change leaves the client.
 */
public final class LocalTraining {

    /**
     * @param epochs E, passes over the local examples per round
     * @param batchSize B, examples per local step
     * @param optimizer the local optimizer, started fresh each round (its slots would otherwise carry data across rounds)
     * @param clipNorm C, the largest L2 norm an update may have
     */
    public record Settings(int epochs, int batchSize, Optimizer optimizer, double clipNorm) {
        public static final Settings DEFAULTS = new Settings(1, 32, Optimizer.sgd(0.05), 10);

        public Settings {
            Objects.requireNonNull(optimizer, "optimizer");
            if (epochs < 1 || batchSize < 1) {
                throw new IllegalArgumentException("Local training needs at least one epoch and one example per batch, got "
                        + epochs + " epochs of batches of " + batchSize);
            }
            if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
                throw new IllegalArgumentException("The clipping norm must be positive and finite, got " + clipNorm);
            }
        }
    }

    private final Settings settings;
    private final int numInputs;
    private final GradientEngine engine;

    /** @param engine the gradient engine to run on, owned by the caller */
    public LocalTraining(Settings settings, int numInputs, GradientEngine engine) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.numInputs = numInputs;
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    public Settings settings() {
        return settings;
    }

    /**
     * The clipped change that training on {@code examples} makes to {@code global}, which is left as
     * it was; {@code shuffleSeed} orders the examples of each epoch.
     */
    public float[] delta(float[] global, List<Example> examples, long shuffleSeed) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("A client trains on at least one example");
        }
        float[] local = global.clone();
        Optimizer optimizer = settings.optimizer();
        float[][] slots = new float[optimizer.slotCount()][local.length];
        optimizer.initializeSlots(slots);
        float[] gradient = new float[local.length];
        List<Example> order = new ArrayList<>(examples);
        Random random = new Random(shuffleSeed);
        long step = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            Collections.shuffle(order, random);
            for (int from = 0; from < order.size(); from += settings.batchSize()) {
                List<Example> batch = order.subList(from, Math.min(order.size(), from + settings.batchSize()));
                MiniBatch.Builder builder = MiniBatch.builder(batch.size(), numInputs);
                batch.forEach(builder::add);
                engine.setParameters(local);
                engine.step(builder.build(), gradient);
                optimizer.apply(local, slots, gradient, ++step);
            }
        }
        float[] delta = new float[local.length];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = local[i] - global[i];
        }
        return UpdateClipping.clip(delta, settings.clipNorm());
    }
}
