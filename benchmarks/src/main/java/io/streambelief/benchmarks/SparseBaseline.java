package io.streambelief.benchmarks;

import java.util.List;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

import io.streambelief.model.sparse.AucHistogram;
import io.streambelief.model.sparse.SparseExample;

/**
 * The plain single-process DL4J model a sparse benchmark compares against: a
 * {@link ComputationGraph} with one {@link EmbeddingLayer} per slot over hashed buckets (the
 * usual way without a parameter server: the feature id modulo the bucket count), merged with
 * the numeric inputs into the same MLP, trained once over the examples in their order with
 * progressive validation (each mini-batch predicted, then fitted).
 */
final class SparseBaseline {
    private SparseBaseline() {}

    /** Progressive AUC of one pass. */
    static double progressiveAuc(List<SparseExample> examples, int slots, int numerics, int dim, List<Integer> hidden,
            int buckets, int batch, double learningRate, long seed) {
        NeuralNetConfiguration.Builder base = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT)
                .updater(new AdaGrad(learningRate)).weightInit(WeightInit.XAVIER);
        ComputationGraphConfiguration.GraphBuilder graph = base.graphBuilder();
        String[] inputs = new String[slots + 1];
        String[] merged = new String[slots + 1];
        for (int s = 0; s < slots; s++) {
            inputs[s] = "slot" + s;
            merged[s] = "embedding" + s;
        }
        inputs[slots] = "numeric";
        graph.addInputs(inputs);
        for (int s = 0; s < slots; s++) {
            graph.addLayer(merged[s], new EmbeddingLayer.Builder().nIn(buckets).nOut(dim).activation(Activation.IDENTITY)
                    .build(), inputs[s]);
        }
        merged[slots] = "numeric";
        graph.addVertex("merged", new MergeVertex(), merged);
        String previous = "merged";
        int width = slots * dim + numerics;
        for (int i = 0; i < hidden.size(); i++) {
            graph.addLayer("dense" + i, new DenseLayer.Builder().nIn(width).nOut(hidden.get(i))
                    .activation(Activation.RELU).weightInit(WeightInit.RELU).build(), previous);
            previous = "dense" + i;
            width = hidden.get(i);
        }
        graph.addLayer("out", new OutputLayer.Builder(LossFunction.XENT).nIn(width).nOut(1)
                .activation(Activation.SIGMOID).build(), previous);
        graph.setOutputs("out");
        ComputationGraph network = new ComputationGraph(graph.build());
        network.init();

        AucHistogram auc = new AucHistogram();
        for (int from = 0; from < examples.size(); from += batch) {
            int size = Math.min(batch, examples.size() - from);
            INDArray[] features = new INDArray[slots + 1];
            float[][] indexes = new float[slots][size];
            float[] numeric = new float[size * numerics];
            float[] labels = new float[size];
            for (int i = 0; i < size; i++) {
                SparseExample example = examples.get(from + i);
                for (int s = 0; s < slots; s++) {
                    indexes[s][i] = Math.floorMod(example.ids()[s], buckets);
                }
                System.arraycopy(example.numerics(), 0, numeric, i * numerics, numerics);
                labels[i] = example.label();
            }
            for (int s = 0; s < slots; s++) {
                features[s] = Nd4j.create(indexes[s], new long[] {size, 1});
            }
            features[slots] = Nd4j.create(numeric, new long[] {size, numerics});
            INDArray label = Nd4j.create(labels, new long[] {size, 1});
            float[] predicted = network.outputSingle(features).toFloatVector();
            for (int i = 0; i < size; i++) {
                auc.add(predicted[i], (int) labels[i]);
            }
            network.fit(features, new INDArray[] {label});
        }
        return auc.auc();
    }
}
