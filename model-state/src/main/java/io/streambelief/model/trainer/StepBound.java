package io.streambelief.model.trainer;

/** How far a worker's parameters may lag behind the other workers' pushes before it waits. */
public enum StepBound {
    /** Downpour SGD: never wait. */
    NONE,
    /** Stale synchronous parallel: wait while a peer's pushes are missing more than the staleness bound behind. */
    STALENESS,
    /** Bulk synchronous: wait for the servers' result of every step. */
    SYNCHRONOUS
}
