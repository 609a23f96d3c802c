package io.streambelief.kafka.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

import io.streambelief.model.Example;

/** A labelled data set held in memory, in a definite order. */
public record ExampleSet(String name, int numFeatures, int numLabels, List<Example> examples) {

    public ExampleSet {
        Objects.requireNonNull(name, "name");
        examples = List.copyOf(examples);
    }

    public int size() {
        return examples.size();
    }

    /**
     * The same examples in a seeded random order: Fisher–Yates with {@link Random}, whose sequence
     * is fixed by the JDK's specification, so a seed gives the same order on every machine.
     */
    public ExampleSet shuffled(long seed) {
        List<Example> order = new ArrayList<>(examples);
        Random random = new Random(seed);
        for (int i = order.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Example swap = order.get(i);
            order.set(i, order.get(j));
            order.set(j, swap);
        }
        return new ExampleSet(name, numFeatures, numLabels, order);
    }

    /** The first {@code n} examples (all of them if there are fewer). */
    public ExampleSet take(int n) {
        return new ExampleSet(name, numFeatures, numLabels, examples.subList(0, Math.min(n, examples.size())));
    }

    @Override
    public String toString() {
        return name + " (" + examples.size() + " examples, " + numFeatures + " features, " + numLabels + " labels)";
    }
}
