package io.streambelief.model;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossBinaryXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;


/**
 * What a model is, in DL4J's own terms: a {@link MultiLayerConfiguration} (as DL4J JSON) whose
 * seed makes initialization deterministic, so every worker, parameter-server shard and serving
 * replica builds the same starting parameters without a round trip.
 *
 * <p>A spec is written either as a preset, {@code mlp:784-256-128-10} (input size, hidden sizes,
 * output size; ReLU hidden layers; softmax with cross-entropy, or a sigmoid with log loss when the
 * output size is 1), or as the path of a DL4J configuration JSON file: feed-forward or
 * convolutional networks (with an input type, so that DL4J reshapes the flat features) whose last
 * layer is an output layer.
 */
public final class ModelSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The preset used when nothing else is said: Fashion-MNIST's pixels in, its 10 classes out. */
    public static final String DEFAULT = "mlp:784-256-128-10";

    private final String source;
    private final String dl4jJson;
    private final int numInputs;
    private final int numOutputs;
    private final long numParams;
    private final long seed;

    private ModelSpec(String source, String dl4jJson) {
        this.source = Objects.requireNonNull(source, "source");
        this.dl4jJson = Objects.requireNonNull(dl4jJson, "dl4jJson");
        MultiLayerConfiguration conf = parseJson(dl4jJson, source);
        List<NeuralNetConfiguration> layers = conf.getConfs();
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Model '" + source + "' has no layers");
        }
        Layer last = layers.get(layers.size() - 1).getLayer();
        if (!(last instanceof BaseOutputLayer out)) {
            throw new IllegalArgumentException("Model '" + source + "' must end with an output layer, not "
                    + last.getClass().getSimpleName());
        }
        this.numInputs = numInputs(conf, source);
        this.numOutputs = Math.toIntExact(out.getNOut());
        long params = 0;
        for (NeuralNetConfiguration layer : layers) {
            params += layer.getLayer().initializer().numParams(layer);
        }
        this.numParams = params;
        this.seed = layers.get(0).getSeed();
    }

    /**
     * How many features an example of this model has: what the configuration's input type
     * flattens to — a convolutional network built with {@code InputType.convolutionalFlat(h, w, c)}
     * takes h·w·c features, which DL4J's preprocessor reshapes — else the first layer's input size.
     */
    private static int numInputs(MultiLayerConfiguration conf, String source) {
        Layer first = conf.getConf(0).getLayer();
        InputPreProcessor preprocessor = conf.getInputPreProcess(0);
        if (preprocessor instanceof FeedForwardToCnnPreProcessor image) {
            return Math.toIntExact(image.getInputHeight() * image.getInputWidth() * image.getNumChannels());
        }
        if (first instanceof ConvolutionLayer || first instanceof SubsamplingLayer) {
            throw new IllegalArgumentException("Model '" + source + "' starts with " + first.getClass().getSimpleName()
                    + " but says nothing of its input's shape: build the configuration with an input type, e.g. "
                    + "setInputType(InputType.convolutionalFlat(28, 28, 1)) for Fashion-MNIST's images");
        }
        if (!(first instanceof FeedForwardLayer ff)) {
            throw new IllegalArgumentException("Model '" + source + "' must start with a feed-forward or convolution "
                    + "layer, not " + first.getClass().getSimpleName());
        }
        return Math.toIntExact(ff.getNIn());
    }

    /**
     * Parses a spec: a preset such as {@code mlp:784-256-128-10}, or the path of a DL4J
     * {@code MultiLayerConfiguration} JSON file. The seed replaces any seed in the JSON.
     */
    public static ModelSpec parse(String spec, long seed) {
        Objects.requireNonNull(spec, "spec");
        String text = spec.strip();
        if (text.startsWith("mlp:")) {
            return mlp(text, seed);
        }
        Path path = Path.of(text);
        if (Files.isRegularFile(path)) {
            try {
                String json = Files.readString(path, StandardCharsets.UTF_8);
                MultiLayerConfiguration conf = parseJson(json, text);
                conf.getConfs().forEach(layer -> layer.setSeed(seed));
                return new ModelSpec(text, conf.toJson());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read model file " + path, e);
            }
        }
        throw new IllegalArgumentException("Unknown model spec '" + spec
                + "': use a preset such as " + DEFAULT + " or the path of a DL4J MultiLayerConfiguration JSON file");
    }

    /** Rebuilds a spec that was published by {@link #source()} and {@link #dl4jJson()}. */
    public static ModelSpec of(String source, String dl4jJson) {
        return new ModelSpec(source, dl4jJson);
    }

    private static ModelSpec mlp(String text, long seed) {
        // One parser of the preset for both: DenseNetwork is what the CUDA engine computes.
        DenseNetwork network = DenseNetwork.mlp(text);
        List<Integer> sizes = new ArrayList<>();
        sizes.add(network.numInputs());
        network.layers().forEach(layer -> sizes.add(layer.outputs()));
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .updater(new NoOp())
                .list();
        for (int i = 1; i < sizes.size() - 1; i++) {
            list.layer(new DenseLayer.Builder()
                    .nIn(sizes.get(i - 1)).nOut(sizes.get(i))
                    .activation(Activation.RELU)
                    .weightInit(WeightInit.RELU)
                    .build());
        }
        int out = sizes.get(sizes.size() - 1);
        boolean binary = out == 1;
        list.layer(new OutputLayer.Builder(binary ? LossFunction.XENT : LossFunction.MCXENT)
                .nIn(sizes.get(sizes.size() - 2)).nOut(out)
                .activation(binary ? Activation.SIGMOID : Activation.SOFTMAX)
                .weightInit(WeightInit.XAVIER)
                .build());
        return new ModelSpec(text, list.build().toJson());
    }

    private static MultiLayerConfiguration parseJson(String json, String source) {
        try {
            return MultiLayerConfiguration.fromJson(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Model '" + source + "' is not a DL4J MultiLayerConfiguration JSON: "
                    + e.getMessage(), e);
        }
    }

    /** A fresh, mutable DL4J configuration (DL4J configurations are mutable, so never shared). */
    public MultiLayerConfiguration configuration() {
        return MultiLayerConfiguration.fromJson(dl4jJson);
    }

    /** The configuration with {@code updater} on every layer: how plain DL4J trains this model. */
    public MultiLayerConfiguration configuration(IUpdater updater) {
        MultiLayerConfiguration conf = configuration();
        for (NeuralNetConfiguration layer : conf.getConfs()) {
            if (layer.getLayer() instanceof BaseLayer base) {
                base.setIUpdater(updater.clone());
                base.setBiasUpdater(null);
            }
        }
        return conf;
    }

    /** A new network holding this spec's initial parameters. */
    public MultiLayerNetwork newNetwork() {
        MultiLayerNetwork network = new MultiLayerNetwork(configuration());
        network.init();
        return network;
    }

    /**
     * This model as our own engines compute it, or an {@link IllegalArgumentException} saying
     * which part of it they do not support: they know dense layers with ReLU, tanh, sigmoid or
     * identity activations and biases, and a softmax/cross-entropy or sigmoid/binary cross-entropy
     * output, without dropout, regularization, weight noise or constraints.
     */
    public DenseNetwork denseNetwork() {
        List<NeuralNetConfiguration> confs = configuration().getConfs();
        List<DenseNetwork.Layer> layers = new ArrayList<>();
        DenseNetwork.Loss loss = null;
        for (int i = 0; i < confs.size(); i++) {
            Layer layer = confs.get(i).getLayer();
            String where = "Model " + source + ", layer " + i + " (" + layer.getClass().getSimpleName() + ")";
            boolean output = i == confs.size() - 1;
            if (!(output ? layer.getClass() == OutputLayer.class : layer.getClass() == DenseLayer.class)) {
                throw new IllegalArgumentException(where + ": only DenseLayers followed by one OutputLayer are supported");
            }
            BaseLayer base = (BaseLayer) layer;
            if (layer.getIDropout() != null || !base.getRegularization().isEmpty()
                    || !base.getRegularizationBias().isEmpty() || base.getWeightNoise() != null
                    || (layer.getConstraints() != null && !layer.getConstraints().isEmpty())) {
                throw new IllegalArgumentException(where + ": dropout, regularization, weight noise and constraints are "
                        + "not supported");
            }
            if (output ? !((OutputLayer) layer).hasBias() : !((DenseLayer) layer).hasBias()
                    || ((DenseLayer) layer).hasLayerNorm()) {
                throw new IllegalArgumentException(where + ": layers need biases and no layer normalization");
            }
            FeedForwardLayer ff = (FeedForwardLayer) layer;
            IActivation activation = base.getActivationFn();
            DenseNetwork.Activation kind = DenseNetwork.Activation.IDENTITY;
            if (output) {
                loss = outputLoss(where, activation, ((OutputLayer) layer).getLossFn());
            } else {
                kind = hiddenActivation(where, activation);
            }
            layers.add(new DenseNetwork.Layer(Math.toIntExact(ff.getNIn()), Math.toIntExact(ff.getNOut()), kind));
        }
        return new DenseNetwork(layers, loss);
    }

    private static DenseNetwork.Activation hiddenActivation(String where, IActivation activation) {
        if (activation.equals(new ActivationReLU())) {
            return DenseNetwork.Activation.RELU;
        } else if (activation instanceof ActivationTanH) {
            return DenseNetwork.Activation.TANH;
        } else if (activation instanceof ActivationSigmoid) {
            return DenseNetwork.Activation.SIGMOID;
        } else if (activation instanceof ActivationIdentity) {
            return DenseNetwork.Activation.IDENTITY;
        }
        throw new IllegalArgumentException(where + ": activation " + activation + " is not supported (relu, tanh, "
                + "sigmoid, identity)");
    }

    private static DenseNetwork.Loss outputLoss(String where, IActivation activation, ILossFunction loss) {
        if (activation instanceof ActivationSoftmax && loss instanceof LossMCXENT mc && mc.getWeights() == null) {
            return DenseNetwork.Loss.SOFTMAX_CROSS_ENTROPY;
        }
        if (activation instanceof ActivationSigmoid && loss instanceof LossBinaryXENT x && x.getWeights() == null) {
            return DenseNetwork.Loss.SIGMOID_CROSS_ENTROPY;
        }
        throw new IllegalArgumentException(where + ": output " + activation + " with " + loss + " is not supported "
                + "(softmax with MCXENT, or sigmoid with XENT, unweighted)");
    }

    /** The deterministic initial parameters, flattened in DL4J's order. */
    public float[] initialParameters() {
        return newNetwork().params().toFloatVector();
    }

    public String source() {
        return source;
    }

    public String dl4jJson() {
        return dl4jJson;
    }

    public int numInputs() {
        return numInputs;
    }

    /** Number of classes, or 1 for a binary model with a sigmoid output. */
    public int numOutputs() {
        return numOutputs;
    }

    /** Number of label values the model accepts: the classes, or 2 for a binary model. */
    public int numLabels() {
        return numOutputs == 1 ? 2 : numOutputs;
    }

    public long numParams() {
        return numParams;
    }

    public long seed() {
        return seed;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec other && source.equals(other.source) && dl4jJson.equals(other.dl4jJson);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, dl4jJson);
    }

    @Override
    public String toString() {
        return source + " (" + numParams + " parameters, seed " + seed + ")";
    }
}
