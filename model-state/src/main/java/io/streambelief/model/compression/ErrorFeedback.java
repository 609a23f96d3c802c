package io.streambelief.model.compression;

import java.util.Arrays;

import io.streambelief.model.ParameterLayout;

/**
 * A worker's gradient compressor with error feedback (Strom 2015; Lin et al. 2018): each push
 * adds the new gradient to a residual, sends the residual's largest entries per shard (rounded
 * to bfloat16 if so configured) and keeps the rest, including the rounding error, for the next
 * push. At every moment the sum of everything sent plus the residual equals the sum of every
 * gradient given, so compression delays gradient mass but never drops it; the residual is
 * operator state and checkpointed with the worker for the same reason.
 *
 * <p>Not thread-safe: one per worker.
 */
public final class ErrorFeedback {
    private final GradientCompression compression;
    private final ParameterLayout layout;
    private final float[] residual;
    /** Magnitudes of one shard's entries, reordered by the selection. */
    private final float[] magnitudes;

    public ErrorFeedback(GradientCompression compression, ParameterLayout layout) {
        this.compression = compression;
        this.layout = layout;
        this.residual = new float[layout.numParams()];
        int longest = 0;
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            longest = Math.max(longest, layout.length(shard));
        }
        this.magnitudes = new float[compression.isLossy() ? longest : 0];
    }

    public GradientCompression compression() {
        return compression;
    }

    /**
     * Takes in {@code gradient} and returns what to push: per shard, the residual's
     * {@link GradientCompression#kept} largest entries by magnitude, zero elsewhere. Without
     * compression, the gradient itself.
     */
    public float[] compress(float[] gradient) {
        checkLength(gradient);
        if (!compression.isLossy()) {
            return gradient;
        }
        float[] sent = new float[residual.length];
        for (int i = 0; i < residual.length; i++) {
            residual[i] += gradient[i];
        }
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            int from = layout.offset(shard);
            int length = layout.length(shard);
            select(from, length, compression.kept(length), sent);
        }
        return sent;
    }

    /**
     * Takes in {@code gradient} and returns the whole residual, unrounded, to push: for when the
     * stream goes quiet or ends. Without compression, the gradient itself.
     */
    public float[] drain(float[] gradient) {
        checkLength(gradient);
        if (!compression.isLossy()) {
            return gradient;
        }
        float[] sent = residual.clone();
        for (int i = 0; i < sent.length; i++) {
            sent[i] += gradient[i];
        }
        Arrays.fill(residual, 0f);
        return sent;
    }

    public boolean hasResidual() {
        for (float r : residual) {
            if (r != 0f) {
                return true;
            }
        }
        return false;
    }

    /** The residual's L2 norm: how much gradient is waiting to be sent. */
    public double residualNorm() {
        double squares = 0;
        for (float r : residual) {
            squares += (double) r * r;
        }
        return Math.sqrt(squares);
    }

    /** The residual as a checkpoint keeps it (a copy). */
    public float[] residual() {
        return residual.clone();
    }

    /**
     * Adds checkpointed residuals to this one. After a rescale a worker may inherit several (or
     * none); adding them keeps their total, which is what error feedback must not lose.
     */
    public void restore(Iterable<float[]> checkpointed) {
        for (float[] saved : checkpointed) {
            checkLength(saved);
            for (int i = 0; i < residual.length; i++) {
                residual[i] += saved[i];
            }
        }
    }

    /** Moves the {@code k} largest-magnitude entries of {@code residual[from, from + length)} to {@code sent}. */
    private void select(int from, int length, int k, float[] sent) {
        float threshold = 0f;
        if (k < length) {
            for (int i = 0; i < length; i++) {
                magnitudes[i] = Math.abs(residual[from + i]);
            }
            threshold = kthLargest(magnitudes, length, k);
        }
        int taken = 0;
        // Strictly above the threshold first, then ties with it, so that exactly k are sent.
        for (int i = from; i < from + length && taken < k; i++) {
            if (Math.abs(residual[i]) > threshold) {
                send(i, sent);
                taken++;
            }
        }
        for (int i = from; i < from + length && taken < k && threshold > 0f; i++) {
            if (Math.abs(residual[i]) == threshold) {
                send(i, sent);
                taken++;
            }
        }
    }

    private void send(int i, float[] sent) {
        float value = compression.bfloat16() ? toBfloat16(residual[i]) : residual[i];
        sent[i] = value;
        residual[i] -= value;
    }

    /**
     * {@code value} rounded to the nearest bfloat16 (ties to even): the upper 16 bits of a float.
     * The relative error is at most 2<sup>-8</sup>.
     */
    public static float toBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat((bits + rounding) & 0xFFFF0000);
    }

    /** The k-th largest of {@code values[0, length)} (1-based), reordering them (Hoare's selection). */
    static float kthLargest(float[] values, int length, int k) {
        int target = length - k;
        int lo = 0;
        int hi = length - 1;
        while (lo < hi) {
            float pivot = values[(lo + hi) >>> 1];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (values[i] < pivot) {
                    i++;
                }
                while (values[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    float t = values[i];
                    values[i] = values[j];
                    values[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) {
                hi = j;
            } else if (target >= i) {
                lo = i;
            } else {
                break;
            }
        }
        return values[target];
    }

    private void checkLength(float[] values) {
        if (values.length != residual.length) {
            throw new IllegalArgumentException("Expected " + residual.length + " gradient entries, got " + values.length);
        }
    }
}
