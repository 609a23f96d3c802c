package io.streambelief.federated;

/**
 * The global model as a client reads it: every shard at one version. In FedAvg the version is the
 * number of rounds closed, so it is also the round a client trains for; in FedBuff it is the base
 * version the client's update is measured against.
 */
public record GlobalModel(long version, float[] parameters) {}
