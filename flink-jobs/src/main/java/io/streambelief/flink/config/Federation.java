package io.streambelief.flink.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

import io.streambelief.model.federated.CentralNoise;
import io.streambelief.model.federated.ClientSampling;
import io.streambelief.model.federated.FedAvgRound;
import io.streambelief.model.federated.FedBuffBuffer;
import io.streambelief.model.federated.ServerOptimizer;

/**
 * How the job aggregates client updates in the federated modes.
 *
 * @param sampling which clients each FedAvg round asks for; {@link ClientSampling#ANY_CLIENT}: whoever reports
 * @param minClients a FedAvg round closes with no fewer updates
 * @param roundDeadline a FedAvg round closes this long after it opened if {@code minClients} have reported,
 *         without waiting for the rest of the sampled clients
 * @param bufferSize FedBuff's K: updates per new version
 * @param maxStaleness FedBuff drops an update whose base is more versions behind than this
 * @param serverOptimizer how the mean update is applied
 * @param noiseMultiplier z of central DP: Gaussian noise of z·C per coordinate on the sum (0: none)
 * @param clipNorm C: the norm clients clip their updates to, which the noise is calibrated to
 * @param delta the δ the run's ε is reported for
 */
public record Federation(ClientSampling sampling, int minClients, Duration roundDeadline, int bufferSize,
        long maxStaleness, ServerOptimizer serverOptimizer, double noiseMultiplier, double clipNorm, double delta)
        implements Serializable {

    public static final int DEFAULT_MIN_CLIENTS = 2;
    public static final String DEFAULT_ROUND_DEADLINE = "60s";
    public static final int DEFAULT_BUFFER_SIZE = 10;
    public static final long DEFAULT_MAX_STALENESS = 10;
    public static final String DEFAULT_SERVER_OPTIMIZER = "fedavg";
    public static final double DEFAULT_CLIP_NORM = 10;
    public static final double DEFAULT_DELTA = 1e-5;

    public static final Federation DEFAULTS = new Federation(ClientSampling.ANY_CLIENT, DEFAULT_MIN_CLIENTS,
            Intervals.parse(DEFAULT_ROUND_DEADLINE), DEFAULT_BUFFER_SIZE, DEFAULT_MAX_STALENESS,
            ServerOptimizer.parse(DEFAULT_SERVER_OPTIMIZER), 0, DEFAULT_CLIP_NORM, DEFAULT_DELTA);

    public Federation {
        Objects.requireNonNull(sampling, "sampling");
        Objects.requireNonNull(roundDeadline, "roundDeadline");
        Objects.requireNonNull(serverOptimizer, "serverOptimizer");
        new FedAvgRound.Settings(minClients, roundDeadline.toMillis(), null);
        new FedBuffBuffer.Settings(bufferSize, maxStaleness, null);
        if (sampling.population() > 0 && minClients > sampling.perRound()) {
            throw new IllegalArgumentException("--min-clients " + minClients + " can never be reached with "
                    + sampling.perRound() + " clients sampled per round");
        }
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException("--noise-multiplier must be finite and at least 0, got " + noiseMultiplier);
        }
        if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("--update-clip-norm must be positive and finite, got " + clipNorm);
        }
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("--dp-delta must be in (0, 1), got " + delta);
        }
    }

    /** Central DP's noise; null without it. */
    public CentralNoise noise() {
        return noiseMultiplier > 0 ? new CentralNoise(noiseMultiplier, clipNorm) : null;
    }

    public FedAvgRound.Settings roundSettings() {
        return new FedAvgRound.Settings(minClients, roundDeadline.toMillis(), noise());
    }

    public FedBuffBuffer.Settings bufferSettings() {
        return new FedBuffBuffer.Settings(bufferSize, maxStaleness, noise());
    }
}
