package io.streambelief.kafka.data;

import java.util.SplittableRandom;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.sparse.FeatureHash;

/**
 * A synthetic sparse stream of any size, for benchmarks: each record has {@code headSlots}
 * categorical fields drawn from a Zipf distribution over a vocabulary of {@code vocabulary}
 * values, and {@code tailSlots} fields whose value is new in every record — so the table grows
 * by {@code tailSlots} rows per record, as a real table grows with new users and items. Labels
 * come from a fixed random wide &amp; deep "teacher" over the head values (a weight and a 4-wide
 * embedding per value, both from the value's hash), so there is something to learn.
 *
 * <p>Record {@code i} is a pure function of {@code i} and the seed: generated while fed, never held.
 */
public final class SparseTeacher {
    private static final int TEACHER_DIM = 4;

    private final int headSlots;
    private final int tailSlots;
    private final long seed;
    private final double[] cumulative;

    public SparseTeacher(int headSlots, int tailSlots, int vocabulary, double zipfExponent, long seed) {
        if (headSlots < 1 || tailSlots < 0 || vocabulary < 1) {
            throw new IllegalArgumentException("A sparse teacher needs head slots >= 1, tail slots >= 0, vocabulary >= 1");
        }
        this.headSlots = headSlots;
        this.tailSlots = tailSlots;
        this.seed = seed;
        this.cumulative = new double[vocabulary];
        double sum = 0;
        for (int rank = 0; rank < vocabulary; rank++) {
            sum += 1 / Math.pow(rank + 1, zipfExponent);
            cumulative[rank] = sum;
        }
        for (int rank = 0; rank < vocabulary; rank++) {
            cumulative[rank] /= sum;
        }
    }

    public int slots() {
        return headSlots + tailSlots;
    }

    /** The schema of these records: fields c0..cN (categorical) and the label y. */
    public FeatureSchema schema() {
        StringBuilder columns = new StringBuilder();
        StringBuilder categorical = new StringBuilder();
        for (int s = 0; s < slots(); s++) {
            columns.append("\"c").append(s).append("\": \"categorical\", ");
            categorical.append(s == 0 ? "" : ", ").append("\"c").append(s).append('"');
        }
        return FeatureSchema.parse("sparse-teacher", "{\"columns\": {" + columns + "\"y\": \"numeric\"}, \"label\": \"y\", "
                + "\"categorical\": [" + categorical + "]}");
    }

    /** The raw values of record {@code index}: its fields, then its label. */
    public String[] values(long index) {
        SplittableRandom random = new SplittableRandom(FeatureHash.mix(seed * 31 + index));
        String[] values = new String[slots() + 1];
        double logit = 0;
        double[] deep = new double[TEACHER_DIM];
        for (int s = 0; s < headSlots; s++) {
            int rank = java.util.Arrays.binarySearch(cumulative, random.nextDouble());
            int value = rank >= 0 ? rank : Math.min(cumulative.length - 1, -rank - 1);
            values[s] = Integer.toString(value);
            SplittableRandom teacher = new SplittableRandom(FeatureHash.id("c" + s, values[s]) ^ seed);
            logit += teacher.nextDouble(-1, 1);
            for (int k = 0; k < TEACHER_DIM; k++) {
                deep[k] += teacher.nextDouble(-1, 1);
            }
        }
        for (int s = headSlots; s < slots(); s++) {
            values[s] = "n" + index;
        }
        double interaction = 0;
        for (int k = 0; k < TEACHER_DIM; k++) {
            interaction += Math.max(0, deep[k]) * (k % 2 == 0 ? 1 : -1);
        }
        logit = logit / Math.sqrt(headSlots) + 0.5 * interaction - 1;
        values[slots()] = random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? "1" : "0";
        return values;
    }

    /** Record {@code index} as a CSV line in the schema's column order. */
    public String line(long index) {
        return String.join(",", values(index));
    }
}
