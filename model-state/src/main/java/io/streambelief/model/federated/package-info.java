/**
 * Federated learning's mathematics, without Flink or Kafka: what a client does to its update
 * before it leaves ({@link UpdateClipping}), how the server combines updates — FedAvg rounds
 * ({@link FedAvgRound}, McMahan et al. 2017) and FedBuff's buffered asynchronous aggregation
 * ({@link FedBuffBuffer}, Nguyen et al. 2022) — and applies them with a server optimizer
 * ({@link ServerOptimizer}: plain averaging, FedAvgM, FedAdam as in Reddi et al. 2021), and
 * central differential privacy ({@link CentralNoise}, {@link RdpAccountant}).
 *
 * <p>Every class keeps its state in plain fields of checkpointable types, so the Flink aggregator
 * can hold it in keyed state and resume a round after a failure.
 */
package io.streambelief.model.federated;
