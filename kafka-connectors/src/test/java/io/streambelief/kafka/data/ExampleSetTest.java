package io.streambelief.kafka.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;

class ExampleSetTest {
    private final ExampleSet set = numbered(100);

    @Test
    void aSeedFixesTheShuffledOrder() {
        ExampleSet once = set.shuffled(42);

        assertThat(once.examples()).isEqualTo(set.shuffled(42).examples());
        assertThat(once.examples()).isNotEqualTo(set.shuffled(43).examples()).isNotEqualTo(set.examples());
        assertThat(once.examples()).containsExactlyInAnyOrderElementsOf(set.examples());
        // Fisher-Yates over java.util.Random is specified by the JDK: this order holds on every machine.
        assertThat(once.examples().subList(0, 5)).extracting(e -> (int) e.features()[0])
                .containsExactly(87, 63, 71, 69, 81);
    }

    @Test
    void takeKeepsTheFirstExamples() {
        assertThat(set.take(3).examples()).extracting(e -> (int) e.features()[0]).containsExactly(0, 1, 2);
        assertThat(set.take(1_000).size()).isEqualTo(100);
    }

    private static ExampleSet numbered(int n) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            examples.add(new Example(new float[] {i}, i % 2));
        }
        return new ExampleSet("numbered", 1, 2, examples);
    }
}
