package io.streambelief.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ParameterLayoutTest {

    @Test
    void shardsAreContiguousAndTheLastOneMayBeShort() {
        ParameterLayout layout = new ParameterLayout(10, 4);

        assertThat(layout.shardCount()).isEqualTo(3);
        assertThat(layout.offset(2)).isEqualTo(8);
        assertThat(layout.length(0)).isEqualTo(4);
        assertThat(layout.length(2)).isEqualTo(2);
    }

    @Test
    void slicingAndPlacingEveryShardRebuildsTheVector() {
        ParameterLayout layout = new ParameterLayout(10, 4);
        float[] full = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] rebuilt = new float[10];

        for (int shard = 0; shard < layout.shardCount(); shard++) {
            layout.place(rebuilt, shard, layout.slice(full, shard));
        }

        assertThat(rebuilt).containsExactly(full);
        assertThat(layout.slice(full, 2)).containsExactly(8, 9);
    }

    @Test
    void theDefaultShardSizeCutsTheFashionModelInFour() {
        ParameterLayout layout = ParameterLayout.of(ModelSpec.parse(ModelSpec.DEFAULT, 1),
                ParameterLayout.DEFAULT_SHARD_SIZE);

        assertThat(layout.numParams()).isEqualTo(235_146);
        assertThat(layout.shardCount()).isEqualTo(4);
    }

    @Test
    void wrongSizesAndShardsAreRefused() {
        ParameterLayout layout = new ParameterLayout(10, 4);

        assertThatThrownBy(() -> layout.offset(3)).hasMessageContaining("outside 0..2");
        assertThatThrownBy(() -> layout.slice(new float[9], 0)).hasMessageContaining("Expected 10 parameters, got 9");
        assertThatThrownBy(() -> layout.place(new float[10], 2, new float[4])).hasMessageContaining("has 2 values");
        assertThatThrownBy(() -> new ParameterLayout(10, 0)).hasMessageContaining("must be positive");
    }
}
