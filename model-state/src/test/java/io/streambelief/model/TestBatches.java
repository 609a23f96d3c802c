package io.streambelief.model;

import java.util.Random;

import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import io.streambelief.model.engine.MiniBatch;

/** Seeded random mini-batches, both as our {@link MiniBatch} and as the DL4J {@link DataSet} of the same data. */
public final class TestBatches {
    private TestBatches() {}

    public static MiniBatch random(ModelSpec spec, int size, long seed) {
        Random random = new Random(seed);
        MiniBatch.Builder builder = MiniBatch.builder(size, spec.numInputs());
        for (int i = 0; i < size; i++) {
            float[] features = new float[spec.numInputs()];
            for (int j = 0; j < features.length; j++) {
                features[j] = random.nextFloat();
            }
            builder.add(new Example(features, random.nextInt(spec.numLabels())));
        }
        return builder.build();
    }

    /** Examples {@code [from, to)} of {@code batch} as a batch of their own. */
    public static MiniBatch slice(ModelSpec spec, MiniBatch batch, int from, int to) {
        MiniBatch.Builder builder = MiniBatch.builder(to - from, spec.numInputs());
        for (int i = from; i < to; i++) {
            float[] features = java.util.Arrays.copyOfRange(batch.features(), i * spec.numInputs(),
                    (i + 1) * spec.numInputs());
            builder.add(new Example(features, batch.labels()[i]));
        }
        return builder.build();
    }

    public static DataSet toDataSet(ModelSpec spec, MiniBatch batch) {
        int classes = spec.numOutputs();
        float[] labels = new float[batch.size() * classes];
        for (int i = 0; i < batch.size(); i++) {
            if (classes == 1) {
                labels[i] = batch.labels()[i];
            } else {
                labels[i * classes + batch.labels()[i]] = 1f;
            }
        }
        return new DataSet(Nd4j.create(batch.features(), new long[] {batch.size(), batch.numInputs()}, 'c'),
                Nd4j.create(labels, new long[] {batch.size(), classes}, 'c'));
    }
}
