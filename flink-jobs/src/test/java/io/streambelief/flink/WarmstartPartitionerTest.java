package io.streambelief.flink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.streambelief.model.Example;

class WarmstartPartitionerTest {
    private static final Example ANY = new Example(new float[] {0}, 0);

    @Test
    void eachUpstreamSubtaskSendsItsShareOfTheWarmstartToWorkerZeroThenDealsInTurn() {
        // 10 warmstart examples over 2 upstream subtasks: 5 from this one.
        WarmstartPartitioner partitioner = new WarmstartPartitioner(10, 2);

        List<Integer> targets = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            targets.add(partitioner.partition(ANY, 3));
        }

        assertThat(targets).containsExactly(0, 0, 0, 0, 0, 1, 2, 0, 1, 2, 0);
    }

    @Test
    void withoutWarmstartExamplesAreDealtInTurnFromTheStart() {
        WarmstartPartitioner partitioner = new WarmstartPartitioner(0, 1);

        assertThat(List.of(partitioner.partition(ANY, 2), partitioner.partition(ANY, 2), partitioner.partition(ANY, 2)))
                .containsExactly(1, 0, 1);
    }
}
