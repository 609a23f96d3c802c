package io.streambelief.model.sparse;

import java.io.Serializable;
import io.streambelief.model.optimizer.Optimizer;

/**
 * An optimizer for embedding rows, applied where a row lives (its {@code EmbeddingShard}).
 * Unlike the dense {@link Optimizer}, it works on a few coordinates at a time inside one row's
 * flat storage: {@code width} values at {@code values}, then {@link #slotCount()} slot arrays of
 * the same width right after them. Stateless; one instance serves every row.
 */
public interface RowOptimizer extends Serializable {

    String SUPPORTED = "adagrad[:lr=..,init=..], ftrl[:alpha=..,beta=..,l1=..,l2=..]";

    /** Per-coordinate state arrays kept next to the values. */
    int slotCount();

    /** Initial slot values of a new row (its values are set by the caller). */
    void initialize(float[] row, int values, int width);

    /** Applies {@code gradient[from, from + width)} to the row's values and slots. */
    void apply(float[] row, int values, int width, float[] gradient, int from);

    /**
     * Parses {@code adagrad:lr=0.05} or {@code ftrl:alpha=0.05,beta=1,l1=0.1,l2=0.01}; omitted
     * settings take their defaults.
     */
    static RowOptimizer parse(String text) {
        Optimizer.Settings settings = Optimizer.Settings.parse(text);
        RowOptimizer optimizer = switch (settings.name()) {
            case "adagrad" -> new RowAdagrad(settings.take("lr", RowAdagrad.DEFAULT_LEARNING_RATE),
                    settings.take("init", RowAdagrad.DEFAULT_INITIAL_ACCUMULATOR));
            case "ftrl" -> new Ftrl(settings.take("alpha", Ftrl.DEFAULT_ALPHA), settings.take("beta", Ftrl.DEFAULT_BETA),
                    settings.take("l1", Ftrl.DEFAULT_L1), settings.take("l2", Ftrl.DEFAULT_L2));
            default -> throw new IllegalArgumentException("Unknown row optimizer '" + text + "': use " + SUPPORTED);
        };
        settings.requireAllTaken();
        return optimizer;
    }
}
