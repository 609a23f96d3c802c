package io.streambelief.launcher.federated;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;

class DirichletSplitTest {

    @Test
    void everyExampleGoesToExactlyOneClientWithEnoughForABatch() {
        List<Example> examples = examples(6_000, 10);
        List<List<Example>> split = DirichletSplit.split(examples, 100, 0.5, 10, 1);

        assertThat(split).hasSize(100).allSatisfy(client -> assertThat(client).hasSizeGreaterThanOrEqualTo(10));
        List<Example> union = split.stream().flatMap(List::stream).toList();
        assertThat(union).hasSize(examples.size());
        assertThat(new HashSet<>(union)).hasSize(examples.size());
    }

    @Test
    void aSmallAlphaGivesEachClientFewLabelsALargeOneAllOfThem() {
        List<Example> examples = examples(20_000, 10);
        assertThat(meanDominantShare(DirichletSplit.split(examples, 20, 0.1, 10, 2))).isGreaterThan(0.6);
        assertThat(meanDominantShare(DirichletSplit.split(examples, 20, 100, 10, 2))).isLessThan(0.2);
    }

    @Test
    void sharesAreADirichletDrawTheyAddUpToOneWithMeanOneOverN() {
        SplittableRandom random = new SplittableRandom(3);
        double first = 0;
        for (int i = 0; i < 20_000; i++) {
            double[] shares = DirichletSplit.dirichlet(4, 0.5, random);
            assertThat(shares[0] + shares[1] + shares[2] + shares[3]).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-9));
            first += shares[0];
        }
        assertThat(first / 20_000).isCloseTo(0.25, org.assertj.core.data.Offset.offset(0.01));
    }

    /** The mean over clients of the share of a client's examples that carry its most common label. */
    private static double meanDominantShare(List<List<Example>> split) {
        double sum = 0;
        for (List<Example> client : split) {
            int[] counts = new int[10];
            client.forEach(example -> counts[example.label()]++);
            int max = 0;
            for (int count : counts) {
                max = Math.max(max, count);
            }
            sum += (double) max / client.size();
        }
        return sum / split.size();
    }

    private static List<Example> examples(int n, int labels) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            examples.add(new Example(new float[] {i}, i % labels));
        }
        return examples;
    }
}
