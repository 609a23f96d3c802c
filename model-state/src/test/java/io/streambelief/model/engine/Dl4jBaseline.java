package io.streambelief.model.engine;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.optimizer.Optimizer;

/**
 * Plain single-process DL4J — {@link MultiLayerNetwork#fit} over mini-batches in the given
 * order, with the updater our optimizer mirrors — the yardstick every Streambelief result is
 * measured against.
 */
public final class Dl4jBaseline {
    private Dl4jBaseline() {}

    /** One pass over {@code examples} in order, from the spec's initial parameters. */
    public static MultiLayerNetwork train(ModelSpec spec, Optimizer optimizer, List<Example> examples, int batchSize) {
        MultiLayerNetwork network = new MultiLayerNetwork(spec.configuration(optimizer.toDl4jUpdater()));
        network.init();
        fit(network, spec, examples, batchSize);
        return network;
    }

    /** Trains {@code network} further on {@code examples}, in order. */
    public static void fit(MultiLayerNetwork network, ModelSpec spec, List<Example> examples, int batchSize) {
        for (int from = 0; from < examples.size(); from += batchSize) {
            network.fit(dataSet(spec, examples.subList(from, Math.min(from + batchSize, examples.size()))));
        }
    }

    /**
     * As {@link #fit}, keeping {@code average} after every step: plain DL4J with the moving
     * average the parameter servers keep and serving answers with, to compare like with like.
     */
    public static void fit(MultiLayerNetwork network, ModelSpec spec, List<Example> examples, int batchSize,
            ParameterAverage average) {
        for (int from = 0; from < examples.size(); from += batchSize) {
            network.fit(dataSet(spec, examples.subList(from, Math.min(from + batchSize, examples.size()))));
            average.update(network.params());
        }
    }

    /**
     * The parameters' moving average as a parameter shard keeps it ({@code ParameterShard}):
     * after step t, {@code average = d·average + (1−d)·params} with {@code d = min(decay, (1+t)/(10+t))},
     * starting from the initial parameters.
     */
    public static final class ParameterAverage {
        private final double decay;
        private final INDArray average;
        private long steps;

        public ParameterAverage(MultiLayerNetwork network, double decay) {
            this.decay = decay;
            this.average = network.params().dup();
        }

        void update(INDArray params) {
            steps++;
            double d = Math.min(decay, (1.0 + steps) / (10.0 + steps));
            average.muli(d).addi(params.mul(1 - d));
        }

        /** A copy of {@code network} with the averaged parameters, to evaluate. */
        public MultiLayerNetwork applyTo(MultiLayerNetwork network) {
            MultiLayerNetwork copy = network.clone();
            copy.setParams(average.dup());
            return copy;
        }
    }

    /** Fraction of {@code examples} whose most probable class (or p > 0.5 for one output) is the label. */
    public static double accuracy(MultiLayerNetwork network, ModelSpec spec, List<Example> examples) {
        int correct = 0;
        for (int from = 0; from < examples.size(); from += 1_000) {
            List<Example> chunk = examples.subList(from, Math.min(from + 1_000, examples.size()));
            float[] p = NativeArrays.copyOut(network.output(features(spec, chunk)));
            int outputs = spec.numOutputs();
            for (int i = 0; i < chunk.size(); i++) {
                int predicted = outputs == 1 ? (p[i] > 0.5f ? 1 : 0) : argMax(p, i * outputs, outputs);
                if (predicted == chunk.get(i).label()) {
                    correct++;
                }
            }
        }
        return (double) correct / examples.size();
    }

    static DataSet dataSet(ModelSpec spec, List<Example> examples) {
        int outputs = spec.numOutputs();
        float[] labels = new float[examples.size() * outputs];
        for (int i = 0; i < examples.size(); i++) {
            int label = examples.get(i).label();
            if (outputs == 1) {
                labels[i] = label;
            } else {
                labels[i * outputs + label] = 1f;
            }
        }
        return new DataSet(features(spec, examples), NativeArrays.matrix(labels, examples.size(), outputs));
    }

    private static INDArray features(ModelSpec spec, List<Example> examples) {
        int inputs = spec.numInputs();
        float[] features = new float[examples.size() * inputs];
        for (int i = 0; i < examples.size(); i++) {
            System.arraycopy(examples.get(i).features(), 0, features, i * inputs, inputs);
        }
        return NativeArrays.matrix(features, examples.size(), inputs);
    }

    private static int argMax(float[] p, int from, int n) {
        int best = 0;
        for (int c = 1; c < n; c++) {
            if (p[from + c] > p[from + best]) {
                best = c;
            }
        }
        return best;
    }
}
