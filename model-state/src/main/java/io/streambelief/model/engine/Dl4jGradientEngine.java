package io.streambelief.model.engine;

import java.util.Objects;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.streambelief.model.ModelSpec;

/** The CPU engine: DL4J's own forward and backward pass (nd4j-native). */
public final class Dl4jGradientEngine implements GradientEngine {
    private final ModelSpec spec;
    private final MultiLayerNetwork network;
    private final OutputCapture outputs = new OutputCapture();

    public Dl4jGradientEngine(ModelSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.network = spec.newNetwork();
        this.network.setListeners(outputs);
    }

    @Override
    public void setParameters(float[] parameters) {
        if (parameters.length != network.numParams()) {
            throw new IllegalArgumentException("Model " + spec.source() + " has " + network.numParams()
                    + " parameters, got " + parameters.length);
        }
        NativeArrays.copyInto(network.params(), parameters);
    }

    @Override
    public GradientStep step(MiniBatch batch, float[] into) {
        if (batch.numInputs() != spec.numInputs()) {
            throw new IllegalArgumentException("Batch has " + batch.numInputs() + " inputs, model takes "
                    + spec.numInputs());
        }
        network.setInput(NativeArrays.matrix(batch.features(), batch.size(), batch.numInputs()));
        network.setLabels(labels(batch));
        network.computeGradientAndScore();
        int correct = countCorrect(outputs.take(), batch.labels());
        // DL4J's backward pass sums over the batch and leaves the division to its updater.
        float[] gradient = NativeArrays.copyOut(network.getFlattenedGradients(), into);
        float scale = 1f / batch.size();
        for (int i = 0; i < gradient.length; i++) {
            gradient[i] *= scale;
        }
        return new GradientStep(network.score(), correct, batch.size(), gradient);
    }

    private INDArray labels(MiniBatch batch) {
        int classes = spec.numOutputs();
        float[] labels = new float[batch.size() * classes];
        for (int i = 0; i < batch.size(); i++) {
            int label = batch.labels()[i];
            if (label >= spec.numLabels()) {
                throw new IllegalArgumentException("Label " + label + " is out of range for " + spec.numLabels()
                        + " classes");
            }
            if (classes == 1) {
                labels[i] = label;
            } else {
                labels[i * classes + label] = 1f;
            }
        }
        return NativeArrays.matrix(labels, batch.size(), classes);
    }

    private static int countCorrect(INDArray probabilities, int[] labels) {
        float[] p = NativeArrays.copyOut(probabilities);
        int classes = p.length / labels.length;
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int predicted;
            if (classes == 1) {
                predicted = p[i] >= 0.5f ? 1 : 0;
            } else {
                predicted = 0;
                for (int c = 1; c < classes; c++) {
                    if (p[i * classes + c] > p[i * classes + predicted]) {
                        predicted = c;
                    }
                }
            }
            if (predicted == labels[i]) {
                correct++;
            }
        }
        return correct;
    }

    /**
     * Takes the output layer's activations during DL4J's own backward pass. The input of the output
     * layer is only valid inside DL4J's workspace, so this is the one place where the batch's
     * predictions cost a tiny output-layer product instead of a second forward pass.
     */
    private static final class OutputCapture extends BaseTrainingListener {
        private INDArray output;

        @Override
        public void onBackwardPass(Model model) {
            MultiLayerNetwork network = (MultiLayerNetwork) model;
            output = network.getOutputLayer().activate(false, LayerWorkspaceMgr.noWorkspaces());
        }

        INDArray take() {
            INDArray taken = Objects.requireNonNull(output, "DL4J did not report the backward pass");
            output = null;
            return taken;
        }
    }
}
