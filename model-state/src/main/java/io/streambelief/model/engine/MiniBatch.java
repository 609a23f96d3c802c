package io.streambelief.model.engine;

import io.streambelief.model.Example;

/**
 * A mini-batch laid out for the math: features as one row-major {@code size x numInputs} array,
 * labels as class indexes. Built by {@link Builder}, which reuses nothing it has handed out.
 */
public record MiniBatch(int size, int numInputs, float[] features, int[] labels) {

    public MiniBatch {
        if (size < 1) {
            throw new IllegalArgumentException("A mini-batch needs at least one example");
        }
        if (features.length != size * numInputs || labels.length != size) {
            throw new IllegalArgumentException("Mini-batch of " + size + " x " + numInputs + " got " + features.length
                    + " feature values and " + labels.length + " labels");
        }
    }

    public static Builder builder(int capacity, int numInputs) {
        return new Builder(capacity, numInputs);
    }

    /** Collects examples until the batch is full; {@link #build()} hands the arrays over and starts afresh. */
    public static final class Builder {
        private final int capacity;
        private final int numInputs;
        private float[] features;
        private int[] labels;
        private int size;

        private Builder(int capacity, int numInputs) {
            if (capacity < 1) {
                throw new IllegalArgumentException("Mini-batch size must be positive, got " + capacity);
            }
            this.capacity = capacity;
            this.numInputs = numInputs;
            reset();
        }

        private void reset() {
            features = new float[capacity * numInputs];
            labels = new int[capacity];
            size = 0;
        }

        public void add(Example example) {
            if (size == capacity) {
                throw new IllegalStateException("Mini-batch is full (" + capacity + ")");
            }
            if (example.features().length != numInputs) {
                throw new IllegalArgumentException("Example has " + example.features().length + " features, model takes "
                        + numInputs);
            }
            System.arraycopy(example.features(), 0, features, size * numInputs, numInputs);
            labels[size++] = example.label();
        }

        public int size() {
            return size;
        }

        public boolean isEmpty() {
            return size == 0;
        }

        public boolean isFull() {
            return size == capacity;
        }

        /** Copies of the examples added since the last build, for a checkpoint. */
        public java.util.List<Example> examples() {
            java.util.List<Example> examples = new java.util.ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                examples.add(new Example(java.util.Arrays.copyOfRange(features, i * numInputs, (i + 1) * numInputs),
                        labels[i]));
            }
            return examples;
        }

        /** The examples added since the last build, as a batch (possibly a partial one). */
        public MiniBatch build() {
            if (size == 0) {
                throw new IllegalStateException("No examples to build a mini-batch from");
            }
            MiniBatch batch = size == capacity
                    ? new MiniBatch(size, numInputs, features, labels)
                    : new MiniBatch(size, numInputs, java.util.Arrays.copyOf(features, size * numInputs),
                            java.util.Arrays.copyOf(labels, size));
            reset();
            return batch;
        }
    }
}
