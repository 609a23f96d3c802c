package io.streambelief.model.sparse;

import java.io.Serializable;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * How one row of a wide &amp; deep embedding table is laid out and updated. A row belongs to one
 * feature id and holds the id's wide weight (1 value) and its deep embedding ({@code dim} values),
 * each followed by its optimizer's slots:
 * {@code [w | wide slots | e_1..e_dim | deep slots]}. What a worker reads — a <em>lookup</em> —
 * is just {@code [w, e_1..e_dim]}; what it sends back is a gradient of the same shape.
 *
 * <p>New rows are deterministic in the seed and the id, so every replica of a job (and a job
 * restarted from nothing) creates the same row without asking anyone.
 */
public final class EmbeddingTable implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String DEFAULT_WIDE_OPTIMIZER = "ftrl";
    public static final String DEFAULT_DEEP_OPTIMIZER = "adagrad";

    private final int dim;
    private final RowOptimizer wide;
    private final RowOptimizer deep;
    private final long seed;
    private final float initScale;

    public EmbeddingTable(int dim, RowOptimizer wide, RowOptimizer deep, long seed) {
        if (dim < 1 || dim > 1024) {
            throw new IllegalArgumentException("Embedding dimension must be 1..1024, got " + dim);
        }
        this.dim = dim;
        this.wide = Objects.requireNonNull(wide, "wide");
        this.deep = Objects.requireNonNull(deep, "deep");
        this.seed = seed;
        // Small enough that a fresh row barely moves the deep part's output, large enough to break symmetry.
        this.initScale = (float) (0.5 / Math.sqrt(dim));
    }

    public int dim() {
        return dim;
    }

    public RowOptimizer wideOptimizer() {
        return wide;
    }

    public RowOptimizer deepOptimizer() {
        return deep;
    }

    public long seed() {
        return seed;
    }

    /** Floats a worker reads and writes per row: the wide weight, then the embedding. */
    public int lookupWidth() {
        return 1 + dim;
    }

    /** Floats stored per row: values and slots. */
    public int storedWidth() {
        return deepOffset() + dim * (1 + deep.slotCount());
    }

    private int deepOffset() {
        return 1 + wide.slotCount();
    }

    /** A new row for {@code id}: wide weight 0, embedding uniform in ±0.5/sqrt(dim), from seed and id. */
    public float[] newRow(long id) {
        float[] row = new float[storedWidth()];
        wide.initialize(row, 0, 1);
        SplittableRandom random = new SplittableRandom(FeatureHash.mix(seed ^ id));
        int e = deepOffset();
        for (int i = 0; i < dim; i++) {
            row[e + i] = (float) ((random.nextDouble() * 2 - 1) * initScale);
        }
        deep.initialize(row, e, dim);
        return row;
    }

    /** Copies the row's lookup ({@link #lookupWidth()} floats) into {@code out} at {@code at}. */
    public void lookup(float[] row, float[] out, int at) {
        out[at] = row[0];
        System.arraycopy(row, deepOffset(), out, at + 1, dim);
    }

    /** The row's lookup as a new array. */
    public float[] lookup(float[] row) {
        float[] out = new float[lookupWidth()];
        lookup(row, out, 0);
        return out;
    }

    /** Applies a gradient of lookup shape, {@code gradient[from, from + lookupWidth())}, to the row. */
    public void apply(float[] row, float[] gradient, int from) {
        wide.apply(row, 0, 1, gradient, from);
        deep.apply(row, deepOffset(), dim, gradient, from + 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EmbeddingTable other && dim == other.dim && seed == other.seed && wide.equals(other.wide)
                && deep.equals(other.deep);
    }

    @Override
    public int hashCode() {
        return Objects.hash(dim, wide, deep, seed);
    }

    @Override
    public String toString() {
        return "dim=" + dim + ", wide=" + wide + ", deep=" + deep;
    }
}
