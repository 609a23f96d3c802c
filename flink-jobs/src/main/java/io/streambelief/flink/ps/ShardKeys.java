package io.streambelief.flink.ps;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import io.streambelief.model.record.GradientSlice;

/**
 * The Flink keys of the parameter shards. Keying by the shard id itself leaves the placement to
 * Flink's key hashing, which with few shards is lumpy: the four shards of the default model all
 * hash to one of two parameter-server subtasks. Instead each shard gets the smallest key that
 * Flink places on subtask {@code shard mod P}, so shards spread evenly whatever their number.
 * The mapping is a pure function of the shard count, P and the maximum parallelism, so a restored
 * job recomputes it; after rescaling, keys (and state) stay valid, only the balance may differ.
 */
public final class ShardKeys implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The parameter servers' maximum parallelism, fixed so the mapping is known when the job is built. */
    public static final int MAX_PARALLELISM = 128;

    private final int[] keyOfShard;
    private final Map<Integer, Integer> shardOfKey = new HashMap<>();

    private ShardKeys(int[] keyOfShard) {
        this.keyOfShard = keyOfShard;
        for (int shard = 0; shard < keyOfShard.length; shard++) {
            shardOfKey.put(keyOfShard[shard], shard);
        }
    }

    public static ShardKeys spread(int shards, int parallelism) {
        if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
            throw new IllegalArgumentException("Parameter-server parallelism must be 1.." + MAX_PARALLELISM + ", got "
                    + parallelism);
        }
        int[] keys = new int[shards];
        boolean[] used = new boolean[0];
        for (int shard = 0; shard < shards; shard++) {
            int target = shard % parallelism;
            int key = 0;
            while (key < used.length && used[key]
                    || KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, parallelism) != target) {
                key++;
            }
            if (key >= used.length) {
                used = Arrays.copyOf(used, Math.max(key + 1, used.length * 2));
            }
            used[key] = true;
            keys[shard] = key;
        }
        return new ShardKeys(keys);
    }

    public int key(int shard) {
        return keyOfShard[shard];
    }

    /** The shard whose key this is. */
    public int shard(int key) {
        Integer shard = shardOfKey.get(key);
        if (shard == null) {
            throw new IllegalArgumentException("Key " + key + " belongs to no shard");
        }
        return shard;
    }

    /** Keys a gradient slice by its shard's key. */
    public KeySelector<GradientSlice, Integer> selector() {
        int[] keys = keyOfShard;
        return slice -> keys[slice.shardId()];
    }
}
