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
    /** One shard's candidate entries (indexes into the residual) and their magnitudes, reordered by the selection. */
    private final int[] candidates;
    private final float[] magnitudes;
    /** One shard's entries sent by a push, by index. */
    private final int[] picked;
    /** Magnitudes sampled to estimate a threshold; which ones is random, what is sent is not. */
    private final float[] sample = new float[2048];
    private long seed = 42;

    public ErrorFeedback(GradientCompression compression, ParameterLayout layout) {
        this.compression = compression;
        this.layout = layout;
        this.residual = new float[layout.numParams()];
        int longest = 0;
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            longest = Math.max(longest, layout.length(shard));
        }
        this.magnitudes = new float[compression.isLossy() ? longest : 0];
        this.candidates = new int[magnitudes.length];
        this.picked = new int[magnitudes.length];
    }

    /**
     * What a push sends.
     *
     * @param values the whole gradient to send, zero where nothing is sent; owned by the caller
     * @param indices per shard, the shard-relative indices of the entries sent, ascending (the
     *     rest of the shard is zero); null when whole shards are sent
     */
    public record Sent(float[] values, int[][] indices) {
        static Sent whole(float[] values) {
            return new Sent(values, null);
        }

        public boolean isSparse() {
            return indices != null;
        }

        /** The values sent to {@code shard}, at {@code indices()[shard]}. */
        public float[] entries(ParameterLayout layout, int shard) {
            int from = layout.offset(shard);
            int[] sent = indices[shard];
            float[] entries = new float[sent.length];
            for (int n = 0; n < sent.length; n++) {
                entries[n] = values[from + sent[n]];
            }
            return entries;
        }
    }

    public GradientCompression compression() {
        return compression;
    }

    /**
     * Takes in {@code gradient} and returns what to push: per shard, the residual's
     * {@link GradientCompression#kept} largest entries by magnitude, zero elsewhere. Without
     * compression, the gradient itself, whole.
     */
    public Sent compress(float[] gradient) {
        checkLength(gradient);
        if (!compression.isLossy()) {
            return Sent.whole(gradient);
        }
        float[] sent = new float[residual.length];
        int[][] indices = new int[layout.shardCount()][];
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            int from = layout.offset(shard);
            int length = layout.length(shard);
            indices[shard] = select(gradient, from, length, compression.kept(length), sent);
        }
        return new Sent(sent, indices);
    }

    /**
     * Takes in {@code gradient} and returns the whole residual, unrounded, to push: for when the
     * stream goes quiet or ends. Without compression, the gradient itself.
     */
    public Sent drain(float[] gradient) {
        checkLength(gradient);
        if (!compression.isLossy()) {
            return Sent.whole(gradient);
        }
        float[] sent = residual.clone();
        for (int i = 0; i < sent.length; i++) {
            sent[i] += gradient[i];
        }
        Arrays.fill(residual, 0f);
        return Sent.whole(sent);
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

    /**
     * Adds {@code gradient[from, from + length)} to the residual and moves the {@code k}
     * largest-magnitude entries of the result to {@code sent}: those above the k-th largest
     * magnitude, then ties with it in index order. Selecting among all entries took more of the
     * worker's time than anything but the gradient, so a sample of magnitudes first gives a
     * threshold that about 2k entries pass, the same pass that adds the gradient collects them,
     * and the exact selection runs on those candidates only (on all entries in the rare case
     * fewer than k pass).
     *
     * @return the indices sent, relative to {@code from}, ascending
     */
    private int[] select(float[] gradient, int from, int length, int k, float[] sent) {
        int to = from + length;
        float floor = k >= length ? 0f : sampledMagnitude(gradient, from, length, 2L * k);
        int count = 0;
        for (int i = from; i < to; i++) {
            float r = residual[i] + gradient[i];
            residual[i] = r;
            float magnitude = Math.abs(r);
            if (magnitude > 0f && magnitude >= floor) {
                candidates[count] = i;
                magnitudes[count++] = magnitude;
            }
        }
        if (count < k && floor > 0f) {
            count = 0;
            for (int i = from; i < to; i++) {
                if (residual[i] != 0f) {
                    candidates[count] = i;
                    magnitudes[count++] = Math.abs(residual[i]);
                }
            }
        }
        int taken = 0;
        if (count <= k) {
            for (int n = 0; n < count; n++) {
                picked[taken++] = send(candidates[n], sent);
            }
            return sentIndices(taken, from, false);
        }
        float threshold = kthLargest(magnitudes, count, k);
        for (int n = 0; n < count && taken < k; n++) {
            if (Math.abs(residual[candidates[n]]) > threshold) {
                picked[taken++] = send(candidates[n], sent);
            }
        }
        int above = taken;
        for (int n = 0; n < count && taken < k; n++) {
            if (Math.abs(residual[candidates[n]]) == threshold) {
                picked[taken++] = send(candidates[n], sent);
            }
        }
        return sentIndices(taken, from, above > 0 && taken > above);
    }

    /** The first {@code taken} picked indices, relative to {@code from}; two ascending runs are sorted into one. */
    private int[] sentIndices(int taken, int from, boolean twoRuns) {
        int[] indices = new int[taken];
        for (int n = 0; n < taken; n++) {
            indices[n] = picked[n] - from;
        }
        if (twoRuns) {
            Arrays.sort(indices);
        }
        return indices;
    }

    /**
     * A magnitude that about {@code wanted} of the range's entries reach once the gradient is
     * added, from a random sample of them. Which entries are sampled is random; what is sent is not.
     */
    private float sampledMagnitude(float[] gradient, int from, int length, long wanted) {
        int size = sample.length;
        for (int n = 0; n < size; n++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            int i = from + (int) ((seed >>> 33) % length);
            sample[n] = Math.abs(residual[i] + gradient[i]);
        }
        long above = Math.max(1, wanted * size / length);
        return above >= size ? 0f : kthLargest(sample, size, (int) above);
    }

    private int send(int i, float[] sent) {
        float value = compression.bfloat16() ? toBfloat16(residual[i]) : residual[i];
        sent[i] = value;
        residual[i] -= value;
        return i;
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
