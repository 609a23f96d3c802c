package io.streambelief.flink.config;

import java.util.Locale;

/** How the examples reach the workers. */
public enum Dealing {
    /**
     * In turn, whichever partition they came from (Flink's rebalance): every worker gets an even
     * share however the partitions fill, but which worker gets which example depends on where
     * the dealing starts, which a restore from a checkpoint changes.
     */
    ROUND_ROBIN("round-robin"),
    /**
     * Each worker trains the examples of its own partition of the examples topic, in the
     * partition's order, as each of DistBelief's model replicas owns a shard of the data. A run is
     * then reproducible: in BSP mode the same examples give the same parameters whatever fails
     * and restores. It needs exactly one examples partition per worker, and a worker whose
     * partition runs dry holds the others back in SSP and BSP mode.
     */
    PARTITION("partition");

    /** The option's word for it. */
    private final String word;

    Dealing(String word) {
        this.word = word;
    }

    public static Dealing parse(String text) {
        String wanted = text.strip().toLowerCase(Locale.ROOT);
        for (Dealing dealing : values()) {
            if (dealing.word.equals(wanted)) {
                return dealing;
            }
        }
        throw new IllegalArgumentException("Unknown dealing '" + text + "'; use round-robin or partition");
    }

    @Override
    public String toString() {
        return word;
    }
}
