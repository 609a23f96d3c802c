package io.streambelief.model.sparse;

/**
 * Area under the ROC curve of a stream of predictions, in constant memory: predicted
 * probabilities are counted in 10,000 equal bins per label, so two scores closer than 1e-4 count
 * as a tie (half a correct pair). Histograms of several workers add up.
 */
public final class AucHistogram {
    private static final int BINS = 10_000;

    private final long[] positives = new long[BINS];
    private final long[] negatives = new long[BINS];

    public void add(double probability, int label) {
        int bin = (int) Math.min(BINS - 1, Math.max(0, probability * BINS));
        if (label == 1) {
            positives[bin]++;
        } else {
            negatives[bin]++;
        }
    }

    public void addAll(AucHistogram other) {
        for (int i = 0; i < BINS; i++) {
            positives[i] += other.positives[i];
            negatives[i] += other.negatives[i];
        }
    }

    public long count() {
        long n = 0;
        for (int i = 0; i < BINS; i++) {
            n += positives[i] + negatives[i];
        }
        return n;
    }

    /** The probability that a random positive scores above a random negative; NaN without both. */
    public double auc() {
        double pairs = 0;
        long negativesBelow = 0;
        long allPositives = 0;
        for (int i = 0; i < BINS; i++) {
            pairs += positives[i] * (negativesBelow + 0.5 * negatives[i]);
            negativesBelow += negatives[i];
            allPositives += positives[i];
        }
        return allPositives == 0 || negativesBelow == 0 ? Double.NaN : pairs / ((double) allPositives * negativesBelow);
    }
}
