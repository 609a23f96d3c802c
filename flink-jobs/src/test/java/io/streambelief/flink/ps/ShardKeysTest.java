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
    @CsvSource({"4, 1", "4, 2", "4, 4", "3, 2", "9, 8", "64, 16", "200, 128", "1, 1", "5, 8"})
    void aParallelismThatDividesTheKeyGroupsGetsTheShardsDealtEvenly(int shards, int parallelism) {
        int[] held = shardsPerSubtask(ShardKeys.spread(shards), shards, parallelism);

        for (int count : held) {
            assertThat(count).isBetween(shards / parallelism, ceilDiv(shards, parallelism));
        }
    }

    @ParameterizedTest(name = "{0} shards on {1} parameter servers")
    @CsvSource({"4, 3", "64, 7", "35, 6", "27, 14", "160, 100"})
    void anyOtherParallelismHoldsAtMostOneShardMoreThanAnEvenShare(int shards, int parallelism) {
        int[] held = shardsPerSubtask(ShardKeys.spread(shards), shards, parallelism);

        for (int count : held) {
            assertThat(count).isLessThanOrEqualTo(ceilDiv(shards, parallelism) + 1);
        }
    }

    /** What rescaling the parameter servers relies on: a shard's key is the same at every parallelism. */
    @ParameterizedTest(name = "{0} shards")
    @CsvSource({"1", "4", "200"})
    void everyShardHasAKeyOfItsOwnThatDependsOnTheShardCountAlone(int shards) {
        ShardKeys keys = ShardKeys.spread(shards);
        ShardKeys again = ShardKeys.spread(shards);

        Set<Integer> distinct = new HashSet<>();
        for (int shard = 0; shard < shards; shard++) {
            assertThat(keys.shard(keys.key(shard))).isEqualTo(shard);
            assertThat(again.key(shard)).isEqualTo(keys.key(shard));
            distinct.add(keys.key(shard));
        }
        assertThat(distinct).hasSize(shards);
        assertThatThrownBy(() -> keys.shard(-1)).hasMessage("Key -1 belongs to no shard");
        assertThatThrownBy(() -> ShardKeys.spread(0)).hasMessageContaining("at least one shard");
    }

    private static int[] shardsPerSubtask(ShardKeys keys, int shards, int parallelism) {
        int[] held = new int[parallelism];
        for (int shard = 0; shard < shards; shard++) {
            held[KeyGroupRangeAssignment.assignKeyToParallelOperator(keys.key(shard), ShardKeys.MAX_PARALLELISM,
                    parallelism)]++;
        }
        return held;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
