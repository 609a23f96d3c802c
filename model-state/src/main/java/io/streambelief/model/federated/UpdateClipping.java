package io.streambelief.model.federated;

/**
 * Bounds the L2 norm of a client's update before it leaves the client: what makes one client's
 * influence on the aggregate bounded, which central DP's noise is calibrated to (DP-FedAvg,
 * McMahan et al. 2018).
 */
public final class UpdateClipping {
    private UpdateClipping() {}

    /** The update scaled down to norm {@code maxNorm} if it is longer; a copy, the input is left as it is. */
    public static float[] clip(float[] update, double maxNorm) {
        if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("The clipping norm must be positive and finite, got " + maxNorm);
        }
        double norm = l2Norm(update);
        float[] clipped = update.clone();
        if (norm > maxNorm) {
            double scale = maxNorm / norm;
            for (int i = 0; i < clipped.length; i++) {
                clipped[i] = (float) (clipped[i] * scale);
            }
            // Float rounding can leave the scaled vector a hair above the bound; shrink until it is not.
            while (l2Norm(clipped) > maxNorm) {
                for (int i = 0; i < clipped.length; i++) {
                    clipped[i] = Math.nextDown(Math.abs(clipped[i])) * Math.signum(clipped[i]);
                }
            }
        }
        return clipped;
    }

    public static double l2Norm(float[] values) {
        double sum = 0;
        for (float value : values) {
            sum += (double) value * value;
        }
        return Math.sqrt(sum);
    }
}
