package io.streambelief.model.optimizer;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.nd4j.linalg.learning.config.IUpdater;

/**
 * An element-wise optimizer applied by a parameter-server shard to its own range of parameters.
 *
 * <p>Call order: a shard allocates {@link #slotCount()} arrays of its length once and has
 * {@link #initializeSlots} fill them; then, for every gradient it accepts, calls {@link #apply}
 * with its values, those slots, the
 * gradient and the step number (1 for the shard's first update). The optimizer keeps no state of
 * its own, so one instance serves every shard, and a shard's slots are all a checkpoint needs.
 *
 * <p>Each optimizer computes exactly what the DL4J updater of {@link #toDl4jUpdater()} computes,
 * so plain DL4J training is a faithful baseline (tests check it step by step).
 */
public interface Optimizer extends Serializable {

    /** The optimizer used when none is named: Adagrad, as in DistBelief. */
    String DEFAULT = "adagrad:lr=0.03";

    /** What {@link #parse} accepts, for messages and help texts. */
    String SUPPORTED = "sgd[:lr=..], momentum[:lr=..,mu=..], adagrad[:lr=..,eps=..], "
            + "adam[:lr=..,beta1=..,beta2=..,eps=..]";

    /** Number of per-parameter state arrays this optimizer keeps next to the values. */
    int slotCount();

    /** Sets freshly allocated slots to their initial values (zero unless an optimizer says otherwise). */
    default void initializeSlots(float[][] slots) {}

    /**
     * Updates {@code values[from, to)} in place from {@code gradient[from, to)}, reading and
     * updating the same range of {@code slots}. {@code step} counts the updates of these
     * parameters, starting at 1.
     */
    void apply(float[] values, float[][] slots, float[] gradient, int from, int to, long step);

    /** Updates all of {@code values} from {@code gradient} (same length). */
    default void apply(float[] values, float[][] slots, float[] gradient, long step) {
        apply(values, slots, gradient, 0, values.length, step);
    }

    /** The DL4J updater that computes the same update. */
    IUpdater toDl4jUpdater();

    /**
     * Whether one gradient, however large, moves each parameter by at most a small multiple of
     * the learning rate (Adagrad and Adam divide by a running root of squared gradients); plain
     * SGD and momentum move in proportion to the gradient, so one absurd example can ruin a model.
     */
    default boolean boundsEachStep() {
        return false;
    }

    /** Plain stochastic gradient descent: {@code w -= lr * g}. */
    static Optimizer sgd(double learningRate) {
        return new Sgd(learningRate);
    }

    /**
     * Adagrad (Duchi, Hazan and Singer, 2011), the per-parameter learning rates that DistBelief's
     * Downpour SGD used: {@code h += g^2; w -= lr * g / (sqrt(h) + epsilon)}.
     */
    static Optimizer adagrad(double learningRate) {
        return new Adagrad(learningRate, Adagrad.DEFAULT_EPSILON);
    }

    static Optimizer adagrad(double learningRate, double epsilon) {
        return new Adagrad(learningRate, epsilon);
    }

    /**
     * SGD with Nesterov momentum, as DL4J's {@code Nesterovs}: {@code v' = mu v - lr g;
     * w += (1 + mu) v' - mu v}.
     */
    static Optimizer momentum(double learningRate, double momentum) {
        return new Momentum(learningRate, momentum);
    }

    /** Adam with DL4J's defaults for the decays and epsilon. */
    static Optimizer adam(double learningRate) {
        return new Adam(learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPSILON);
    }

    static Optimizer adam(double learningRate, double beta1, double beta2, double epsilon) {
        return new Adam(learningRate, beta1, beta2, epsilon);
    }

    /**
     * Parses {@code name[:key=value,...]}, e.g. {@code sgd:lr=0.1}, {@code momentum:lr=0.01,mu=0.9},
     * {@code adagrad:lr=0.05,eps=1e-6} or {@code adam:lr=0.001,beta1=0.9,beta2=0.999,eps=1e-8}.
     */
    static Optimizer parse(String text) {
        Settings settings = Settings.parse(text);
        Optimizer optimizer = switch (settings.name()) {
            case "sgd" -> sgd(settings.take("lr", Sgd.DEFAULT_LEARNING_RATE));
            case "momentum" -> momentum(settings.take("lr", Momentum.DEFAULT_LEARNING_RATE),
                    settings.take("mu", Momentum.DEFAULT_MOMENTUM));
            case "adagrad" -> adagrad(settings.take("lr", Adagrad.DEFAULT_LEARNING_RATE),
                    settings.take("eps", Adagrad.DEFAULT_EPSILON));
            case "adam" -> adam(settings.take("lr", Adam.DEFAULT_LEARNING_RATE), settings.take("beta1", Adam.DEFAULT_BETA1),
                    settings.take("beta2", Adam.DEFAULT_BETA2), settings.take("eps", Adam.DEFAULT_EPSILON));
            default -> throw new IllegalArgumentException("Unknown optimizer '" + settings.name()
                    + "'; supported: " + SUPPORTED);
        };
        settings.requireAllTaken();
        return optimizer;
    }

    /**
     * An optimizer written as {@code name[:key=value,...]}: its lower-case name and numeric
     * settings, taken one by one so that a misspelt setting is an error rather than ignored.
     */
    final class Settings {
        private final String text;
        private final String name;
        private final Map<String, Double> options = new LinkedHashMap<>();

        private Settings(String text, String name) {
            this.text = text;
            this.name = name;
        }

        public static Settings parse(String text) {
            String spec = text.strip();
            int colon = spec.indexOf(':');
            Settings settings = new Settings(text, (colon < 0 ? spec : spec.substring(0, colon)).toLowerCase(Locale.ROOT));
            if (colon >= 0 && colon < spec.length() - 1) {
                for (String pair : spec.substring(colon + 1).split(",")) {
                    String[] kv = pair.split("=", 2);
                    if (kv.length != 2) {
                        throw new IllegalArgumentException("Optimizer '" + text + "': expected key=value, got '" + pair + "'");
                    }
                    try {
                        settings.options.put(kv[0].strip().toLowerCase(Locale.ROOT), Double.parseDouble(kv[1].strip()));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("Optimizer '" + text + "': '" + kv[1] + "' is not a number");
                    }
                }
            }
            return settings;
        }

        public String name() {
            return name;
        }

        /** The setting {@code key}, or {@code fallback} when it is not given. */
        public double take(String key, double fallback) {
            Double value = options.remove(key);
            return value == null ? fallback : value;
        }

        /** Refuses settings nobody took. */
        public void requireAllTaken() {
            if (!options.isEmpty()) {
                throw new IllegalArgumentException("Optimizer '" + text + "': unknown option(s) " + options.keySet()
                        + " for " + name);
            }
        }
    }

    /** Checks a hyperparameter of {@code optimizer} is positive and finite. */
    static void requirePositive(String optimizer, String what, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(optimizer + ": " + what + " must be positive and finite, got " + value);
        }
    }
}
