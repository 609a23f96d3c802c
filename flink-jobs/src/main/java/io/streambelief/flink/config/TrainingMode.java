package io.streambelief.flink.config;

import java.util.Locale;

/** How workers and parameter servers synchronize (DistBelief's Downpour, and the two bounded alternatives). */
public enum TrainingMode {
    /**
     * Downpour SGD: workers never wait. Each computes on the newest parameters it has received
     * plus its own pushes, and the parameter servers apply every gradient as it arrives.
     */
    ASYNC,
    /**
     * Stale synchronous parallel: a worker whose next push would be more than {@code s} pushes
     * ahead of the slowest worker whose updates it holds stops reading examples and only takes in
     * parameter updates until it is back within the bound.
     */
    SSP,
    /**
     * Bulk synchronous: the parameter servers apply step t once all W workers' gradients for it
     * have arrived (their example-weighted mean), and a worker computes step t+1 only on the
     * result; W workers with batch B train exactly like one process with batch W·B.
     */
    BSP,
    /**
     * Federated averaging: no workers; clients train where their data is and send model updates to
     * {@code client-updates}, and the job closes rounds of them (McMahan et al. 2017).
     */
    FEDAVG,
    /** Federated, asynchronous: every K client updates, staleness-weighted, make a new version (FedBuff). */
    FEDBUFF;

    /** Whether clients train and the job only aggregates their updates. */
    public boolean isFederated() {
        return this == FEDAVG || this == FEDBUFF;
    }

    public static TrainingMode parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown training mode '" + text + "'; use async, ssp, bsp, fedavg or fedbuff");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
