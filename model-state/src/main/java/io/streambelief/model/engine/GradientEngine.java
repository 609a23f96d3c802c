package io.streambelief.model.engine;

/**
 * The math a worker runs: parameters and a mini-batch in, flat gradient and score out. Holds one
 * model replica's parameters between calls; not thread-safe (one per worker subtask).
 */
public interface GradientEngine extends AutoCloseable {

    /** Replaces all parameters (flattened in the model's order). */
    void setParameters(float[] parameters);

    /** Evaluates the current parameters on {@code batch}, then computes their gradient on it. */
    GradientStep step(MiniBatch batch);

    @Override
    default void close() {}
}
