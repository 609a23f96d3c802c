package io.streambelief.flink.ps;

import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import io.streambelief.flink.config.Parallelism;
import io.streambelief.model.record.GradientSlice;

/**
 * The Flink keys of the parameter shards. Keying by the shard id itself leaves the placement to
 * Flink's key hashing, which with few shards is lumpy: the four shards of the default model all
 * hash to one of two parameter-server subtasks. Flink hands each subtask a contiguous range of
 * the {@link #MAX_PARALLELISM} key groups, so instead the shards sit evenly spaced over the key
 * groups — shard s gets the smallest key in key group {@code floor((2s + 1) * 128 / 2S)} — and
 * any parallelism P cuts them evenly: each subtask holds floor(S/P) or ceil(S/P) of the S shards
 * when P divides 128 (1, 2, 4, 8, ...), and otherwise at most one more (for up to 160 shards).
 *
 * <p>The keys depend on the shard count alone, never on the parallelism: a job restored from a
 * savepoint at another parallelism finds every shard's state under the key it was saved with.
 * (Dealing shards to subtasks in turn balances every P exactly, but gives a shard another key for
 * each P, which orphans its state when the parameter servers are rescaled.)
 */
public final class ShardKeys implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The parameter servers' maximum parallelism (Flink's number of key groups), fixed because the
     * keys are chosen by key group when the job is built. It bounds the parameter servers'
     * parallelism; changing it would move keyed state between key groups, so savepoints could not
     * be restored.
     */
    public static final int MAX_PARALLELISM = Parallelism.MAX_PARAMETER_SERVERS;

    private final int[] keyOfShard;
    private final Map<Integer, Integer> shardOfKey = new HashMap<>();

    private ShardKeys(int[] keyOfShard) {
        this.keyOfShard = keyOfShard;
        for (int shard = 0; shard < keyOfShard.length; shard++) {
            shardOfKey.put(keyOfShard[shard], shard);
        }
    }

    /** The keys of a model of {@code shards} shards, for parameter servers of any parallelism up to {@link #MAX_PARALLELISM}. */
    public static ShardKeys spread(int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("A model has at least one shard, got " + shards);
        }
        // Shards waiting for a key, by key group; every key goes to the first shard waiting in its group.
        Map<Integer, ArrayDeque<Integer>> waiting = new HashMap<>();
        for (int shard = 0; shard < shards; shard++) {
            int keyGroup = (int) ((2L * shard + 1) * MAX_PARALLELISM / (2L * shards));
            waiting.computeIfAbsent(keyGroup, g -> new ArrayDeque<>()).add(shard);
        }
        int[] keys = new int[shards];
        for (int key = 0, placed = 0; placed < shards; key++) {
            ArrayDeque<Integer> group = waiting.get(KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_PARALLELISM));
            if (group != null && !group.isEmpty()) {
                keys[group.poll()] = key;
                placed++;
            }
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
