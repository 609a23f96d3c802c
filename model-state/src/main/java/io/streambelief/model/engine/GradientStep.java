package io.streambelief.model.engine;

/**
 * What one mini-batch gives: the gradient of the mean loss at the engine's parameters, and the
 * evaluation of those same parameters on the batch before any training on it (progressive
 * validation: every example is test data first, training data second).
 *
 * @param loss mean loss over the batch
 * @param correct examples whose most probable class was the label
 * @param size examples in the batch
 * @param gradient flat gradient, in the model's parameter order; owned by the caller
 */
public record GradientStep(double loss, int correct, int size, float[] gradient) {
}
