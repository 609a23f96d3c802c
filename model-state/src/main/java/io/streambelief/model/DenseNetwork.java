package io.streambelief.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The shape of a feed-forward network as our own engines compute it: dense layers with an
 * activation each, and an output layer whose activation and loss go together (softmax with
 * multi-class cross-entropy, or a sigmoid with binary cross-entropy). Parameters are flattened the
 * way DL4J flattens them — per layer the weights as a column-major {@code nIn x nOut} matrix, then
 * the biases — so a parameter vector means the same thing to every engine.
 *
 * <p>Deliberately free of DL4J types: GPU hosts run this engine from a bundle without DL4J's
 * natives. {@code ModelSpec.denseNetwork()} reads one from a DL4J configuration.
 */
public record DenseNetwork(List<Layer> layers, Loss loss) {

    /** Element-wise activation of a hidden layer. */
    public enum Activation {
        IDENTITY, RELU, TANH, SIGMOID
    }

    /** The output layer's activation with its loss. */
    public enum Loss {
        /** Softmax over the classes with multi-class cross-entropy (labels are class indexes). */
        SOFTMAX_CROSS_ENTROPY,
        /** One sigmoid output with binary cross-entropy (labels are 0 or 1). */
        SIGMOID_CROSS_ENTROPY
    }

    /** One dense layer; the output layer's activation is its {@link Loss}'s. */
    public record Layer(int inputs, int outputs, Activation activation) {
        public Layer {
            if (inputs < 1 || outputs < 1) {
                throw new IllegalArgumentException("Layer sizes must be positive, got " + inputs + " x " + outputs);
            }
            Objects.requireNonNull(activation, "activation");
        }

        public long numParams() {
            return (long) inputs * outputs + outputs;
        }
    }

    public DenseNetwork {
        layers = List.copyOf(layers);
        Objects.requireNonNull(loss, "loss");
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("A network needs at least an output layer");
        }
        for (int i = 1; i < layers.size(); i++) {
            if (layers.get(i).inputs() != layers.get(i - 1).outputs()) {
                throw new IllegalArgumentException("Layer " + i + " takes " + layers.get(i).inputs() + " inputs but layer "
                        + (i - 1) + " gives " + layers.get(i - 1).outputs());
            }
        }
        if (loss == Loss.SIGMOID_CROSS_ENTROPY && layers.get(layers.size() - 1).outputs() != 1) {
            throw new IllegalArgumentException("A sigmoid cross-entropy output has one unit, got "
                    + layers.get(layers.size() - 1).outputs());
        }
    }

    /**
     * The {@code mlp:784-256-128-10} preset, as {@code ModelSpec} builds it: ReLU hidden layers,
     * softmax with cross-entropy, or a sigmoid with binary cross-entropy when the output size is 1.
     */
    public static DenseNetwork mlp(String preset) {
        if (!preset.startsWith("mlp:")) {
            throw new IllegalArgumentException("Not an mlp preset: '" + preset + "' (write e.g. mlp:784-256-128-10)");
        }
        String[] parts = preset.substring("mlp:".length()).split("-");
        int[] sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                sizes[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Model spec '" + preset + "': '" + parts[i]
                        + "' is not a layer size; write sizes as in mlp:784-256-128-10");
            }
            if (sizes[i] < 1) {
                throw new IllegalArgumentException("Model spec '" + preset + "': layer sizes must be positive, got "
                        + sizes[i]);
            }
        }
        if (sizes.length < 2) {
            throw new IllegalArgumentException("Model spec '" + preset
                    + "' needs at least an input and an output size, e.g. mlp:784-256-10");
        }
        List<Layer> layers = new ArrayList<>();
        for (int i = 1; i < sizes.length; i++) {
            layers.add(new Layer(sizes[i - 1], sizes[i], i < sizes.length - 1 ? Activation.RELU : Activation.IDENTITY));
        }
        return new DenseNetwork(layers, sizes[sizes.length - 1] == 1 ? Loss.SIGMOID_CROSS_ENTROPY : Loss.SOFTMAX_CROSS_ENTROPY);
    }

    public int numInputs() {
        return layers.get(0).inputs();
    }

    public int numOutputs() {
        return layers.get(layers.size() - 1).outputs();
    }

    public long numParams() {
        return layers.stream().mapToLong(Layer::numParams).sum();
    }

    /** Offset of layer {@code index}'s weights in the flat parameter vector; its biases follow them. */
    public long weightOffset(int index) {
        long offset = 0;
        for (int i = 0; i < index; i++) {
            offset += layers.get(i).numParams();
        }
        return offset;
    }

    /** The widest layer's output size: what the engine's per-example work buffers hold. */
    public int maxWidth() {
        return layers.stream().mapToInt(Layer::outputs).max().orElseThrow();
    }

    /**
     * Multiply-adds of one example's forward and backward pass, times two: the FLOPs the matrix
     * products of one training example cost (the first layer has no input gradient to compute).
     */
    public long flopsPerExample() {
        long flops = 0;
        for (int i = 0; i < layers.size(); i++) {
            long weights = (long) layers.get(i).inputs() * layers.get(i).outputs();
            flops += 2 * weights * (i == 0 ? 2 : 3);
        }
        return flops;
    }

    /**
     * Seeded Glorot-uniform weights and zero biases: starting parameters where DL4J's own
     * initialization is not at hand (the GPU bundle carries no DL4J).
     */
    public float[] randomParameters(long seed) {
        float[] params = new float[Math.toIntExact(numParams())];
        SplittableRandom random = new SplittableRandom(seed);
        int offset = 0;
        for (Layer layer : layers) {
            double limit = Math.sqrt(6.0 / (layer.inputs() + layer.outputs()));
            int weights = layer.inputs() * layer.outputs();
            for (int i = 0; i < weights; i++) {
                params[offset + i] = (float) ((random.nextDouble() * 2 - 1) * limit);
            }
            offset += weights + layer.outputs();
        }
        return params;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder().append(numInputs());
        for (Layer layer : layers) {
            text.append('-').append(layer.outputs());
        }
        return text.append(" (").append(loss.name().toLowerCase(java.util.Locale.ROOT)).append(')').toString();
    }
}
