package io.streambelief.model.federated;

/**
 * The privacy a run of central-DP aggregation has spent, by Rényi differential privacy (Mironov
 * 2017): each round is the sampled Gaussian mechanism — every client in it with probability q,
 * noise multiplier z — whose RDP at integer order α is, after Mironov, Talwar and Zhang (2019),
 * {@code log(Σ_k C(α,k) (1-q)^(α-k) q^k exp((k²-k)/(2z²))) / (α-1)}. Rounds compose by adding RDP,
 * and (ε, δ) is {@code min over α of T·RDP(α) + log(1/δ)/(α-1)}: the standard conversion, a little
 * looser than the newest ones, so the ε reported is an upper bound.
 */
public final class RdpAccountant {
    /** Orders tried; small noise needs low orders, long runs high ones. */
    static final int MAX_ORDER = 256;

    private final double noiseMultiplier;
    private final double samplingRate;
    private final double[] rdpPerRound;

    /**
     * @param noiseMultiplier z, the noise's standard deviation over the clipping norm
     * @param samplingRate q, the chance each client takes part in a round (clients per round over clients)
     */
    public RdpAccountant(double noiseMultiplier, double samplingRate) {
        if (!(noiseMultiplier > 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException("Accounting needs a positive noise multiplier, got " + noiseMultiplier);
        }
        if (!(samplingRate > 0 && samplingRate <= 1)) {
            throw new IllegalArgumentException("The sampling rate is in (0, 1], got " + samplingRate);
        }
        this.noiseMultiplier = noiseMultiplier;
        this.samplingRate = samplingRate;
        this.rdpPerRound = new double[MAX_ORDER + 1];
        for (int order = 2; order <= MAX_ORDER; order++) {
            rdpPerRound[order] = rdp(order);
        }
    }

    /** The RDP of one round at integer order {@code order} ≥ 2. */
    double rdp(int order) {
        double q = samplingRate;
        double z2 = noiseMultiplier * noiseMultiplier;
        if (q == 1) {
            return order / (2 * z2);
        }
        // Sum in log space: the terms grow like exp(k²/2z²) and overflow doubles for small z.
        double logSum = Double.NEGATIVE_INFINITY;
        double logBinomial = 0;
        for (int k = 0; k <= order; k++) {
            if (k > 0) {
                logBinomial += Math.log(order - k + 1) - Math.log(k);
            }
            double term = logBinomial + (order - k) * Math.log1p(-q) + k * Math.log(q) + (k * (double) k - k) / (2 * z2);
            logSum = logAdd(logSum, term);
        }
        return logSum / (order - 1);
    }

    /** ε after {@code rounds} rounds at this δ, the best over the orders. */
    public double epsilon(long rounds, double delta) {
        return best(rounds, delta)[0];
    }

    /** The order that gives {@link #epsilon}, for reports. */
    public int bestOrder(long rounds, double delta) {
        return (int) best(rounds, delta)[1];
    }

    private double[] best(long rounds, double delta) {
        if (!(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("δ is in (0, 1), got " + delta);
        }
        if (rounds < 0) {
            throw new IllegalArgumentException("Rounds cannot be negative, got " + rounds);
        }
        double best = Double.POSITIVE_INFINITY;
        int bestOrder = 2;
        for (int order = 2; order <= MAX_ORDER; order++) {
            double epsilon = rounds * rdpPerRound[order] + Math.log(1 / delta) / (order - 1);
            if (epsilon < best) {
                best = epsilon;
                bestOrder = order;
            }
        }
        return new double[] {best, bestOrder};
    }

    private static double logAdd(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) {
            return b;
        }
        double max = Math.max(a, b);
        return max + Math.log(Math.exp(a - max) + Math.exp(b - max));
    }
}
