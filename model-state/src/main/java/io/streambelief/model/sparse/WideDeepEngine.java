package io.streambelief.model.sparse;

import java.util.List;
import java.util.Objects;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.NativeArrays;

/**
 * The math of a wide &amp; deep step. Per example: the wide logit is the sum of its ids' wide
 * weights; the deep logit is DL4J's MLP on the concatenated embeddings and numeric inputs;
 * {@code p = sigmoid(wide + deep)} and the loss is log loss.
 *
 * <p>The backward pass is DL4J's own ({@link MultiLayerNetwork#calculateGradients}, which also
 * returns the gradient with respect to the input, i.e. the embeddings). The MLP ends in DL4J's
 * sigmoid/log-loss output layer, whose gradient with respect to its logit is {@code sigmoid(deep) - y};
 * it is handed the label {@code y - p + sigmoid(deep)}, which turns that into
 * {@code p - y}, the gradient of log loss on the combined logit — so one DL4J backward pass
 * serves the joint model. (Binary cross-entropy's gradient is linear in the label, which is why
 * this is exact; tests check it against finite differences.)
 *
 * <p>Gradients: the dense one is of the mean loss over the batch (as the parameter servers
 * expect); each row's is of the summed loss — what per-example FTRL and Adagrad would have
 * added up over the batch. Not thread-safe.
 */
public final class WideDeepEngine implements AutoCloseable {
    private final ModelSpec dense;
    private final int slots;
    private final int dim;
    private final int numerics;
    private final MultiLayerNetwork network;

    public WideDeepEngine(ModelSpec dense, int slots, int dim, int numerics) {
        this.dense = Objects.requireNonNull(dense, "dense");
        if (dense.numInputs() != slots * dim + numerics || dense.numOutputs() != 1) {
            throw new IllegalArgumentException("MLP " + dense.source() + " does not fit " + slots + " slots of dim "
                    + dim + " and " + numerics + " numeric inputs with one output");
        }
        this.slots = slots;
        this.dim = dim;
        this.numerics = numerics;
        this.network = dense.newNetwork();
    }

    public ModelSpec denseSpec() {
        return dense;
    }

    public void setParameters(float[] parameters) {
        if (parameters.length != network.numParams()) {
            throw new IllegalArgumentException("MLP " + dense.source() + " has " + network.numParams()
                    + " parameters, got " + parameters.length);
        }
        NativeArrays.copyInto(network.params(), parameters);
    }

    /**
     * What one batch gives: its mean log loss and predictions at the current parameters (before
     * training on it), the dense gradient and one lookup-shaped gradient per example and slot.
     */
    public record Step(double loss, float[] predictions, float[] denseGradient, float[] rowGradients) {}

    /**
     * @param lookups {@code size × slots × (1 + dim)}: each example's rows as looked up
     * @param numericInputs {@code size × numerics}
     */
    public Step step(float[] lookups, float[] numericInputs, int[] labels) {
        int size = labels.length;
        INDArray x = deepInput(lookups, numericInputs, size, slots, dim, numerics);
        float[] wide = wideLogits(lookups, size, slots, dim);
        float[] deep = deepLogits(network, x);
        float[] p = new float[size];
        float[] adjusted = new float[size];
        double loss = 0;
        for (int i = 0; i < size; i++) {
            double logit = wide[i] + deep[i];
            p[i] = (float) sigmoid(logit);
            // log loss from the logit, stable at both ends
            loss += Math.max(logit, 0) - logit * labels[i] + Math.log1p(Math.exp(-Math.abs(logit)));
            adjusted[i] = (float) (labels[i] - p[i] + sigmoid(deep[i]));
        }
        var gradients = network.calculateGradients(x, NativeArrays.matrix(adjusted, size, 1), null, null);
        float[] denseGradient = NativeArrays.copyOut(network.getFlattenedGradients());
        float scale = 1f / size;
        for (int i = 0; i < denseGradient.length; i++) {
            denseGradient[i] *= scale;
        }
        float[] inputGradient = NativeArrays.copyOut(gradients.getSecond());
        int width = 1 + dim;
        int in = slots * dim + numerics;
        float[] rowGradients = new float[size * slots * width];
        for (int i = 0; i < size; i++) {
            float dLogit = p[i] - labels[i];
            for (int s = 0; s < slots; s++) {
                int at = (i * slots + s) * width;
                rowGradients[at] = dLogit;
                System.arraycopy(inputGradient, i * in + s * dim, rowGradients, at + 1, dim);
            }
        }
        return new Step(loss / size, p, denseGradient, rowGradients);
    }

    /** Probabilities for {@code size} examples. */
    public float[] predict(float[] lookups, float[] numericInputs, int size) {
        return probabilities(network, slots, dim, numerics, lookups, numericInputs, size);
    }

    /**
     * Probabilities for {@code size} examples with {@code network} as the deep part: the one
     * computation serving shares with training, so that the two cannot disagree.
     */
    public static float[] probabilities(MultiLayerNetwork network, int slots, int dim, int numerics, float[] lookups,
            float[] numericInputs, int size) {
        float[] wide = wideLogits(lookups, size, slots, dim);
        float[] deep = deepLogits(network, deepInput(lookups, numericInputs, size, slots, dim, numerics));
        float[] p = new float[size];
        for (int i = 0; i < size; i++) {
            p[i] = (float) sigmoid(wide[i] + deep[i]);
        }
        return p;
    }

    private static INDArray deepInput(float[] lookups, float[] numericInputs, int size, int slots, int dim,
            int numerics) {
        int width = 1 + dim;
        int in = slots * dim + numerics;
        if (lookups.length != size * slots * width || numericInputs.length != size * numerics) {
            throw new IllegalArgumentException("Expected " + size + " examples of " + slots + " rows of " + width
                    + " floats and " + numerics + " numerics, got " + lookups.length + " and " + numericInputs.length);
        }
        float[] x = new float[size * in];
        for (int i = 0; i < size; i++) {
            for (int s = 0; s < slots; s++) {
                System.arraycopy(lookups, (i * slots + s) * width + 1, x, i * in + s * dim, dim);
            }
            System.arraycopy(numericInputs, i * numerics, x, i * in + slots * dim, numerics);
        }
        return NativeArrays.matrix(x, size, in);
    }

    private static float[] wideLogits(float[] lookups, int size, int slots, int dim) {
        int width = 1 + dim;
        float[] wide = new float[size];
        for (int i = 0; i < size; i++) {
            float sum = 0;
            for (int s = 0; s < slots; s++) {
                sum += lookups[(i * slots + s) * width];
            }
            wide[i] = sum;
        }
        return wide;
    }

    /** The MLP's output-layer logit, computed from its input so that no probability is inverted. */
    private static float[] deepLogits(MultiLayerNetwork network, INDArray x) {
        int outputLayer = network.getnLayers() - 1;
        INDArray hidden = x;
        if (outputLayer > 0) {
            List<INDArray> activations = network.feedForwardToLayer(outputLayer - 1, x, false);
            hidden = activations.get(activations.size() - 1);
        }
        var layer = network.getLayer(outputLayer);
        INDArray logits = hidden.mmul(layer.getParam("W")).addiRowVector(layer.getParam("b"));
        return NativeArrays.copyOut(logits);
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    @Override
    public void close() {
        network.close();
    }
}
