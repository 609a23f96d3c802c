package io.streambelief.benchmarks;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.streambelief.launcher.cluster.ClusterRestApi;
import io.streambelief.launcher.local.LocalDeployment;
import io.streambelief.launcher.local.RowLag;

/**
 * Samples a running sparse job's {@link RowLag} over a run: the median of the sampled medians and
 * the largest sampled p99.
 */
final class RowLagSampler {
    private final LocalDeployment deployment;
    private final ClusterRestApi rest;
    private final List<Double> medians = new ArrayList<>();
    private double p99 = Double.NaN;

    RowLagSampler(LocalDeployment deployment) {
        this.deployment = deployment;
        this.rest = new ClusterRestApi(deployment.webUi(), Duration.ofSeconds(5));
    }

    /** Takes one sample; a job that does not answer (yet) gives none. */
    void sample() {
        RowLag lag;
        try {
            lag = RowLag.of(rest, deployment.jobId());
        } catch (IOException e) {
            return;
        }
        if (!Double.isNaN(lag.medianMillis())) {
            medians.add(lag.medianMillis());
        }
        if (!Double.isNaN(lag.p99Millis())) {
            p99 = Double.isNaN(p99) ? lag.p99Millis() : Math.max(p99, lag.p99Millis());
        }
    }

    double p50() {
        return medians.isEmpty() ? Double.NaN : medians.stream().sorted().toList().get(medians.size() / 2);
    }

    double p99() {
        return p99;
    }
}
