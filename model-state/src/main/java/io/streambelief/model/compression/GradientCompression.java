package io.streambelief.model.compression;

import java.io.Serializable;
import java.util.Locale;

/**
 * How a worker cuts down what it pushes: keep only the largest {@code density} fraction of each
 * shard's accumulated gradient by magnitude (top-k sparsification, as in Deep Gradient
 * Compression, Lin et al. 2018), optionally rounding what is kept to bfloat16. What is not sent
 * stays in the worker's {@link ErrorFeedback} residual and joins the next push, so no gradient
 * mass is lost, only delayed.
 *
 * @param density fraction of each shard's entries sent per push, in (0, 1]; 1 sends them all
 * @param bfloat16 whether sent values are rounded to bfloat16 (8 significant bits; the rounding
 *     error also goes to the residual)
 */
public record GradientCompression(double density, boolean bfloat16) implements Serializable {
    /** Every gradient sent whole, as 32-bit floats: the exact reference. */
    public static final GradientCompression NONE = new GradientCompression(1, false);

    public GradientCompression {
        if (!(density > 0 && density <= 1)) {
            throw new IllegalArgumentException("gradient density must be in (0, 1] (1: send everything), got " + density);
        }
    }

    /** Whether anything is held back or rounded, so that a residual is kept. */
    public boolean isLossy() {
        return density < 1 || bfloat16;
    }

    /** How many of {@code length} entries one push sends (at least one). */
    public int kept(int length) {
        return density >= 1 ? length : Math.max(1, (int) Math.ceil(density * length));
    }

    @Override
    public String toString() {
        return isLossy() ? String.format(Locale.ROOT, "top %s%%%s", trim(100 * density), bfloat16 ? ", bfloat16" : "")
                : "none";
    }

    private static String trim(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }
}
