package io.streambelief.flink.federated;

/**
 * What the round coordinator sends a shard: one counted client update's slice of the shard with its
 * weight, or the order to close {@code version} — apply the aggregate of what came before it and
 * publish {@code version + 1}. Both travel the same channel, so a close always follows the slices it covers.
 *
 * @param version the round (FedAvg) or the model version (FedBuff) the slice counts towards
 * @param examples the client's examples (a slice; 0 for a close)
 */
public record ShardContribution(int shard, long version, boolean closes, double weight, long examples, float[] values) {

    private static final float[] NONE = new float[0];

    public static ShardContribution slice(int shard, long version, double weight, long examples, float[] values) {
        return new ShardContribution(shard, version, false, weight, examples, values);
    }

    public static ShardContribution close(int shard, long version) {
        return new ShardContribution(shard, version, true, 0, 0, NONE);
    }
}
