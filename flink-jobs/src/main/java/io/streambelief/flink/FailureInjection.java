package io.streambelief.flink;

import java.io.Serializable;
import java.util.Random;

/**
 * Deliberate failures, for testing fault tolerance: in each of the job's first {@code attempts}
 * executions, one operator fails — the first worker (even attempts) after a random number of
 * mini-batches, or the first parameter server (odd attempts) after a random number of gradients,
 * between the bounds and seeded by the attempt — so the job restores from its last checkpoint
 * again and again at unplanned points, in both kinds of operator. Never set in production;
 * {@link #NONE} is the default.
 */
public record FailureInjection(int attempts, int minEvents, int maxEvents, long seed) implements Serializable {

    public static final FailureInjection NONE = new FailureInjection(0, 1, 1, 0);

    /** The operators that fail. */
    public enum Operator { WORKER, PARAMETER_SERVER }

    public FailureInjection {
        if (attempts < 0 || minEvents < 1 || maxEvents < minEvents) {
            throw new IllegalArgumentException("Failure injection needs attempts >= 0 and 1 <= min <= max events");
        }
    }

    /**
     * How many events (mini-batches, gradients) the given operator lives through in this attempt
     * before it fails; {@code Long.MAX_VALUE} if it does not fail.
     */
    public long eventsBeforeFailure(int attempt, Operator operator, int subtask) {
        Operator failing = attempt % 2 == 0 ? Operator.WORKER : Operator.PARAMETER_SERVER;
        if (attempt >= attempts || subtask != 0 || operator != failing) {
            return Long.MAX_VALUE;
        }
        Random random = new Random(seed * 31 + attempt);
        return minEvents + random.nextInt(maxEvents - minEvents + 1);
    }

    /** The failure thrown: a plain runtime exception, as a bug or a lost machine would cause. */
    public static RuntimeException failure(String operator, int attempt, String progress) {
        return new IllegalStateException("Injected failure in " + operator + " (attempt " + attempt + ", after "
                + progress + ")");
    }
}
