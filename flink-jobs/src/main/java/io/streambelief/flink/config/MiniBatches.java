package io.streambelief.flink.config;

import java.io.Serializable;

/**
 * What a worker trains at a time and how often it talks to the parameter servers (Downpour's
 * n_push and n_fetch).
 *
 * @param batchSize examples per mini-batch of each worker
 * @param nPush mini-batches whose gradients a worker sums before pushing them
 * @param nFetch a worker takes in received parameters at most every nFetch mini-batches
 */
public record MiniBatches(int batchSize, int nPush, int nFetch) implements Serializable {
    public static final int DEFAULT_BATCH_SIZE = 32;
    public static final int DEFAULT_N_PUSH = 1;
    public static final int DEFAULT_N_FETCH = 1;

    public MiniBatches {
        TrainingConfig.positive("batch size", batchSize);
        TrainingConfig.positive("nPush", nPush);
        TrainingConfig.positive("nFetch", nFetch);
    }
}
