package io.streambelief.flink.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;

/**
 * The job's clocks.
 *
 * @param publish a shard publishes its values at most this often
 * @param servingPublish async modes: a shard's whole values go to model-params (what the model
 *     server and restores read) at most this often, and never more often than {@code publish}; its
 *     deltas still go to the workers every {@code publish}
 * @param checkpoint Flink's checkpoint interval: also how often snapshots and row gradients are committed
 * @param metrics interval of the progressive-validation reports
 * @param idleFlush a partial mini-batch is trained once no example arrived for this long
 */
public record Intervals(Duration publish, Duration servingPublish, Duration checkpoint, Duration metrics,
        Duration idleFlush)
        implements Serializable {
    // Written as the command line writes them, so that its defaults and these are the same text.
    public static final String DEFAULT_PUBLISH = "100ms";
    public static final String DEFAULT_SERVING_PUBLISH = "100ms";
    public static final String DEFAULT_CHECKPOINT = "5s";
    public static final String DEFAULT_METRICS = "2s";
    public static final String DEFAULT_IDLE_FLUSH = "500ms";

    public static final Intervals DEFAULTS = new Intervals(parse(DEFAULT_PUBLISH), parse(DEFAULT_SERVING_PUBLISH),
            parse(DEFAULT_CHECKPOINT), parse(DEFAULT_METRICS), parse(DEFAULT_IDLE_FLUSH));

    public Intervals {
        for (Duration d : new Duration[] {publish, servingPublish, checkpoint, metrics, idleFlush}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("Intervals must be positive, got " + d);
            }
        }
    }

    /** A duration written the way people write them: {@code 250ms}, {@code 5s}, {@code 2m}. */
    public static Duration parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            }
            if (t.endsWith("m")) {
                return Duration.ofSeconds(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60));
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration; write e.g. 250ms, 5s or 2m");
    }
}
