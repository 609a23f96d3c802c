package io.streambelief.flink.ps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShardKeysTest {

    @ParameterizedTest(name = "{0} shards on {1} parameter servers")
    @CsvSource({"4, 2", "4, 4", "3, 2", "64, 7", "1, 1", "200, 128"})
    void shardsAreDealtToTheParameterServersInTurn(int shards, int parallelism) {
        ShardKeys keys = ShardKeys.spread(shards, parallelism);

        Set<Integer> distinct = new HashSet<>();
        for (int shard = 0; shard < shards; shard++) {
            int key = keys.key(shard);
            assertThat(KeyGroupRangeAssignment.assignKeyToParallelOperator(key, ShardKeys.MAX_PARALLELISM, parallelism))
                    .as("subtask of shard %d", shard).isEqualTo(shard % parallelism);
            assertThat(keys.shard(key)).isEqualTo(shard);
            distinct.add(key);
        }
        assertThat(distinct).hasSize(shards);
    }

    @ParameterizedTest(name = "{0} shards on {1} parameter servers")
    @CsvSource({"4, 2", "9, 3"})
    void theMappingIsAFunctionOfTheShapeAlone(int shards, int parallelism) {
        ShardKeys once = ShardKeys.spread(shards, parallelism);
        ShardKeys again = ShardKeys.spread(shards, parallelism);

        for (int shard = 0; shard < shards; shard++) {
            assertThat(again.key(shard)).isEqualTo(once.key(shard));
        }
        assertThatThrownBy(() -> once.shard(-1)).hasMessage("Key -1 belongs to no shard");
        assertThatThrownBy(() -> ShardKeys.spread(4, 129)).hasMessageContaining("1..128");
    }
}
