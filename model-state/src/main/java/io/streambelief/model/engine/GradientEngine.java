package io.streambelief.model.engine;

/**
 * The math a worker runs: parameters and a mini-batch in, flat gradient and score out. Holds one
 * model replica's parameters between calls; not thread-safe (one per worker subtask).
 */
public interface GradientEngine extends AutoCloseable {

    /** Replaces all parameters (flattened in the model's order). */
    void setParameters(float[] parameters);

    /** Evaluates the current parameters on {@code batch}, then computes their gradient on it. */
    default GradientStep step(MiniBatch batch) {
        return step(batch, null);
    }

    /**
     * As {@link #step(MiniBatch)}, writing the gradient into {@code gradient} (one float per
     * parameter), which the returned step then holds; null: into a new array. Reusing one array
     * saves allocating and clearing a gradient per mini-batch — 218 MB for a 54M-parameter model.
     */
    GradientStep step(MiniBatch batch, float[] gradient);

    @Override
    default void close() {}
}
