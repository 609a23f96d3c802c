package io.streambelief.launcher.local;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.JobID;

import io.streambelief.launcher.cluster.ClusterRestApi;

/**
 * A sparse job's row lag — a row gradient's creation to its row's publication — as its embedding
 * shards record it ({@code rowLagMs}, each over its last 10,000 publications): the largest median
 * and p99 over the shards, NaN before any row was published.
 */
public record RowLag(double medianMillis, double p99Millis) {
    private static final String MEDIAN = "embedding-shard.rowLagMs_median";
    private static final String P99 = "embedding-shard.rowLagMs_p99";

    /** Reads it from the job's metrics through Flink's REST API. */
    public static RowLag of(ClusterRestApi rest, JobID job) throws IOException {
        List<Map<String, Double>> shards = rest.subtaskMetrics(job, "embedding-shard", MEDIAN, P99);
        return new RowLag(largest(shards, MEDIAN), largest(shards, P99));
    }

    private static double largest(List<Map<String, Double>> shards, String metric) {
        return shards.stream().mapToDouble(m -> m.getOrDefault(metric, Double.NaN)).filter(v -> !Double.isNaN(v))
                .max().orElse(Double.NaN);
    }
}
