package io.streambelief.flink;

import java.util.Locale;

/** How the examples reach the workers. */
public enum Dealing {
    /**
     * In turn, whichever partition they came from (Flink's rebalance): every worker gets an even
     * share however the partitions fill, but which worker gets which example depends on where
     * the dealing starts, which a restore from a checkpoint changes.
     */
    ROUND_ROBIN,
    /**
     * Each worker trains the examples of its own partition of the examples topic, in the
     * partition's order, as each of DistBelief's model replicas owns a shard of the data. A run is
     * then reproducible: in BSP mode the same examples give the same parameters whatever fails
     * and restores. It needs exactly one examples partition per worker, and a worker whose
     * partition runs dry holds the others back in SSP and BSP mode.
     */
    PARTITION;

    public static Dealing parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "round-robin" -> ROUND_ROBIN;
            case "partition" -> PARTITION;
            default -> throw new IllegalArgumentException("Unknown dealing '" + text + "'; use round-robin or partition");
        };
    }

    @Override
    public String toString() {
        return this == ROUND_ROBIN ? "round-robin" : "partition";
    }
}
