package io.streambelief.model.federated;

/** What became of an update offered to the aggregator; all but {@link #COUNTED} are dropped and counted. */
public enum Offer {
    /** Taken into the aggregate. */
    COUNTED,
    /** From a client already counted in this round (FedAvg) or from this base version (FedBuff): a redelivery or a replay. */
    DUPLICATE,
    /** Started from a round or model version too old to be taken. */
    STALE,
    /** From a client that was not sampled for the round. */
    NOT_SAMPLED,
    /** Claims a round or model version the aggregator has not reached. */
    FROM_THE_FUTURE,
    /** Of the wrong length, or with a value that is not finite. */
    MALFORMED
}
