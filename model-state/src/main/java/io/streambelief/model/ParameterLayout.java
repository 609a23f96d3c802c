package io.streambelief.model;

import java.io.Serializable;
import java.util.Arrays;

/**
 * How a model's flattened parameter vector is cut into shards: contiguous ranges of
 * {@code shardSize} floats (the last one may be shorter). The shard id is the parameter server's
 * key, so the layout must be the same for every worker, shard and reader of one model.
 */
public record ParameterLayout(int numParams, int shardSize) implements Serializable {

    /** About 64 Ki floats (256 KiB) a shard: small Kafka records, many shards for large models. */
    public static final int DEFAULT_SHARD_SIZE = 65_536;

    public ParameterLayout {
        if (numParams < 1) {
            throw new IllegalArgumentException("A model needs at least one parameter, got " + numParams);
        }
        if (shardSize < 1) {
            throw new IllegalArgumentException("Shard size must be positive, got " + shardSize);
        }
    }

    public static ParameterLayout of(ModelSpec spec, int shardSize) {
        if (spec.numParams() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Model " + spec.source() + " has " + spec.numParams()
                    + " parameters; dense models are limited to " + (Integer.MAX_VALUE - 8));
        }
        return new ParameterLayout((int) spec.numParams(), shardSize);
    }

    public int shardCount() {
        return (numParams + shardSize - 1) / shardSize;
    }

    public int offset(int shard) {
        checkShard(shard);
        return shard * shardSize;
    }

    public int length(int shard) {
        checkShard(shard);
        return Math.min(shardSize, numParams - shard * shardSize);
    }

    /** A copy of one shard's range of a full parameter (or gradient) vector. */
    public float[] slice(float[] full, int shard) {
        checkLength(full);
        int offset = offset(shard);
        return Arrays.copyOfRange(full, offset, offset + length(shard));
    }

    /** Writes one shard's values into its range of a full vector. */
    public void place(float[] full, int shard, float[] values) {
        checkLength(full);
        if (values.length != length(shard)) {
            throw new IllegalArgumentException("Shard " + shard + " has " + length(shard) + " values, got "
                    + values.length);
        }
        System.arraycopy(values, 0, full, offset(shard), values.length);
    }

    private void checkShard(int shard) {
        if (shard < 0 || shard >= shardCount()) {
            throw new IllegalArgumentException("Shard " + shard + " is outside 0.." + (shardCount() - 1));
        }
    }

    private void checkLength(float[] full) {
        if (full.length != numParams) {
            throw new IllegalArgumentException("Expected " + numParams + " parameters, got " + full.length);
        }
    }
}
