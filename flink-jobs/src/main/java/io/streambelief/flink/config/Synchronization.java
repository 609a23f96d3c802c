package io.streambelief.flink.config;

import java.io.Serializable;
import java.util.Objects;

/**
 * How workers and parameter servers wait for each other.
 *
 * @param mode async (never wait), SSP or BSP
 * @param stalenessBound SSP's bound s: how many pushes a worker may run ahead of the slowest one
 *         it has heard from
 */
public record Synchronization(TrainingMode mode, int stalenessBound) implements Serializable {
    /** A word, as the command line writes it: {@link TrainingMode#parse} makes the default of it. */
    public static final String DEFAULT_MODE = "async";
    public static final int DEFAULT_STALENESS_BOUND = 4;

    public Synchronization {
        Objects.requireNonNull(mode, "mode");
        if (stalenessBound < 0) {
            throw new IllegalArgumentException("staleness bound must be >= 0, got " + stalenessBound);
        }
    }
}
