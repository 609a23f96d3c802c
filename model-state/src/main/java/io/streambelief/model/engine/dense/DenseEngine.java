package io.streambelief.model.engine.dense;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import io.streambelief.model.DenseNetwork;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;

/**
 * A dense network's forward and backward pass composed of {@link Kernels}: parameters, gradients
 * and every intermediate stay in the kernels' memory between steps; per step only the batch goes
 * in and the flat gradient with each example's loss and hit comes out. Gradients are of the mean
 * loss over the batch, in DL4J's parameter order, as {@code Dl4jGradientEngine} gives them.
 *
 * <p>Activations are computed in place and kept (not the pre-activations): every supported
 * activation's derivative is a function of its output, which halves the memory per example.
 */
public final class DenseEngine implements GradientEngine {
    private final DenseNetwork network;
    private final Kernels kernels;
    private final int numParams;
    private final Kernels.Buffer parameters;
    /** The flat gradient, followed by room for the per-example statistics of the largest batch so far. */
    private Kernels.Buffer gradient;
    private Kernels.Buffer features;
    private Kernels.Buffer labels;
    /** Each layer's activations (the output layer's: its logits) for the current batch. */
    private Kernels.Buffer[] activations;
    /** Two buffers the backward pass alternates between: this layer's delta, the layer below's. */
    private Kernels.Buffer[] deltas;
    private int capacity;
    private float[] labelValues = new float[0];
    private float[] stats = new float[0];

    /** Takes ownership of {@code kernels}, which {@link #close} closes. */
    public DenseEngine(DenseNetwork network, Kernels kernels) {
        this.network = Objects.requireNonNull(network, "network");
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        this.numParams = Math.toIntExact(network.numParams());
        try {
            this.parameters = kernels.allocate(numParams);
        } catch (RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    public DenseNetwork network() {
        return network;
    }

    @Override
    public void setParameters(float[] values) {
        if (values.length != numParams) {
            throw new IllegalArgumentException("Network " + network + " has " + numParams + " parameters, got "
                    + values.length);
        }
        kernels.upload(values, numParams, parameters);
    }

    @Override
    public GradientStep step(MiniBatch batch, float[] into) {
        if (batch.numInputs() != network.numInputs()) {
            throw new IllegalArgumentException("Batch has " + batch.numInputs() + " inputs, model takes "
                    + network.numInputs());
        }
        float[] flat = into != null ? into : new float[numParams];
        if (flat.length != numParams) {
            throw new IllegalArgumentException("Gradient array of " + flat.length + " floats for " + numParams
                    + " parameters");
        }
        int n = batch.size();
        ensureCapacity(n);
        int numLabels = network.loss() == DenseNetwork.Loss.SIGMOID_CROSS_ENTROPY ? 2 : network.numOutputs();
        for (int i = 0; i < n; i++) {
            int label = batch.labels()[i];
            if (label < 0 || label >= numLabels) {
                throw new IllegalArgumentException("Label " + label + " is out of range for " + numLabels + " classes");
            }
            labelValues[i] = label;
        }
        kernels.upload(batch.features(), n * network.numInputs(), features);
        kernels.upload(labelValues, n, labels);

        List<DenseNetwork.Layer> layers = network.layers();
        int last = layers.size() - 1;
        for (int l = 0; l <= last; l++) {
            DenseNetwork.Layer layer = layers.get(l);
            Kernels.Buffer input = l == 0 ? features : activations[l - 1];
            kernels.gemm(true, false, layer.outputs(), n, layer.inputs(), weights(l), layer.inputs(), input,
                    layer.inputs(), activations[l], layer.outputs());
            kernels.addBias(activations[l], biases(l), layer.outputs(), n);
            if (l < last) {
                kernels.activate(layer.activation(), activations[l], layer.outputs() * n);
            }
        }

        Kernels.Buffer statsBuffer = gradient.slice(numParams, 2L * n);
        int current = 0;
        kernels.loss(network.loss(), activations[last], labels, network.numOutputs(), n, 1f / n, deltas[current],
                statsBuffer);
        // Each layer's gradient goes to the host while the layers below it are computed, and is
        // copied into the array while the next one is: only the first layer's copy is not hidden.
        List<Kernels.Download> started = new ArrayList<>();
        try {
            started.add(kernels.startDownload(statsBuffer, stats, 0, 2 * n));
            Kernels.Download above = null;
            for (int l = last; l >= 0; l--) {
                DenseNetwork.Layer layer = layers.get(l);
                Kernels.Buffer input = l == 0 ? features : activations[l - 1];
                Kernels.Buffer delta = deltas[current];
                kernels.gemm(false, true, layer.inputs(), layer.outputs(), n, input, layer.inputs(), delta,
                        layer.outputs(), gradient.slice(network.weightOffset(l), (long) layer.inputs() * layer.outputs()),
                        layer.inputs());
                kernels.rowSums(delta, layer.outputs(), n, biasSlice(gradient, l));
                int offset = Math.toIntExact(network.weightOffset(l));
                int count = Math.toIntExact(layer.numParams());
                Kernels.Download download = kernels.startDownload(gradient.slice(offset, count), flat, offset, count);
                started.add(download);
                if (l > 0) {
                    Kernels.Buffer below = deltas[1 - current];
                    kernels.gemm(false, false, layer.inputs(), n, layer.outputs(), weights(l), layer.inputs(), delta,
                            layer.outputs(), below, layer.inputs());
                    kernels.multiplyByDerivative(layers.get(l - 1).activation(), activations[l - 1], below,
                            layer.inputs() * n);
                    current = 1 - current;
                }
                if (above != null) {
                    above.finish();
                }
                above = download;
            }
            above.finish();
            started.get(0).finish();
        } catch (RuntimeException e) {
            // No copy may stay in flight behind a failed step: the kernels reuse their buffers only when none is.
            for (Kernels.Download download : started) {
                try {
                    download.finish();
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
            }
            throw e;
        }
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < n; i++) {
            loss += stats[i];
            correct += stats[n + i] > 0.5f ? 1 : 0;
        }
        return new GradientStep(loss / n, correct, n, flat);
    }

    private Kernels.Buffer weights(int layer) {
        DenseNetwork.Layer shape = network.layers().get(layer);
        return parameters.slice(network.weightOffset(layer), (long) shape.inputs() * shape.outputs());
    }

    private Kernels.Buffer biases(int layer) {
        return biasSlice(parameters, layer);
    }

    private Kernels.Buffer biasSlice(Kernels.Buffer flat, int layer) {
        DenseNetwork.Layer shape = network.layers().get(layer);
        return flat.slice(network.weightOffset(layer) + (long) shape.inputs() * shape.outputs(), shape.outputs());
    }

    /** Sizes the per-example buffers for {@code batch} examples; they only grow. */
    private void ensureCapacity(int batch) {
        if (batch <= capacity) {
            return;
        }
        if (capacity > 0) {
            freeBatchBuffers();
        }
        List<DenseNetwork.Layer> layers = network.layers();
        gradient = kernels.allocate(numParams + 2L * batch);
        features = kernels.allocate((long) batch * network.numInputs());
        labels = kernels.allocate(batch);
        activations = new Kernels.Buffer[layers.size()];
        for (int l = 0; l < layers.size(); l++) {
            activations[l] = kernels.allocate((long) batch * layers.get(l).outputs());
        }
        long widest = (long) batch * network.maxWidth();
        deltas = new Kernels.Buffer[] {kernels.allocate(widest), kernels.allocate(widest)};
        labelValues = new float[batch];
        stats = new float[2 * batch];
        capacity = batch;
    }

    private void freeBatchBuffers() {
        kernels.free(gradient);
        kernels.free(features);
        kernels.free(labels);
        for (Kernels.Buffer buffer : activations) {
            kernels.free(buffer);
        }
        for (Kernels.Buffer buffer : deltas) {
            kernels.free(buffer);
        }
    }

    @Override
    public void close() {
        kernels.close();
    }
}
