package io.streambelief.model.federated;

import java.io.Serializable;
import java.util.Locale;

import io.streambelief.model.optimizer.Optimizer;

/**
 * How the server applies an aggregate: as Reddi et al. (2021) frame it, the mean client update Δ
 * is a pseudo-gradient −Δ for a server optimizer. Plain FedAvg is SGD with learning rate 1
 * (w += Δ), FedAvgM adds server momentum (our Nesterov momentum, as DL4J's), FedAdam uses Adam
 * with a large ε (their τ = 10⁻³) so that small coordinates do not explode.
 */
public final class ServerOptimizer implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String SUPPORTED = "fedavg, fedavgm[:lr=1,mu=0.9], fedadam[:lr=0.01,beta1=0.9,beta2=0.99,eps=0.001]";

    private final String name;
    private final Optimizer optimizer;

    private ServerOptimizer(String name, Optimizer optimizer) {
        this.name = name;
        this.optimizer = optimizer;
    }

    /** One of {@link #SUPPORTED}, with its options as {@link Optimizer#parse} takes them. */
    public static ServerOptimizer parse(String text) {
        String spec = text.strip().toLowerCase(Locale.ROOT);
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? spec : spec.substring(0, colon);
        String options = colon < 0 ? "" : spec.substring(colon + 1);
        return switch (kind) {
            case "fedavg" -> {
                if (!options.isEmpty()) {
                    throw new IllegalArgumentException("fedavg takes no options (it adds the mean update), got " + text);
                }
                yield new ServerOptimizer(spec, Optimizer.sgd(1));
            }
            case "fedavgm" -> new ServerOptimizer(spec, Optimizer.parse("momentum:" + withDefaults(options, "lr=1,mu=0.9")));
            case "fedadam" -> new ServerOptimizer(spec,
                    Optimizer.parse("adam:" + withDefaults(options, "lr=0.01,beta1=0.9,beta2=0.99,eps=0.001")));
            default -> throw new IllegalArgumentException("Unknown server optimizer '" + text + "'; supported: " + SUPPORTED);
        };
    }

    /** {@code defaults}, each replaced by the option of the same name the user gave. */
    private static String withDefaults(String given, String defaults) {
        StringBuilder merged = new StringBuilder(given);
        for (String option : defaults.split(",")) {
            String key = option.substring(0, option.indexOf('=') + 1);
            if (!("," + given).contains("," + key)) {
                merged.append(merged.length() == 0 ? "" : ",").append(option);
            }
        }
        return merged.toString();
    }

    public float[][] newSlots(int length) {
        float[][] slots = new float[optimizer.slotCount()][length];
        optimizer.initializeSlots(slots);
        return slots;
    }

    /** Applies the mean update {@code delta} to {@code values} in place; {@code step} counts applications from 1. */
    public void apply(float[] values, float[][] slots, float[] delta, long step) {
        float[] pseudoGradient = new float[delta.length];
        for (int i = 0; i < delta.length; i++) {
            pseudoGradient[i] = -delta[i];
        }
        optimizer.apply(values, slots, pseudoGradient, step);
    }

    /** Equal when written the same: the text decides the optimizer and its options. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ServerOptimizer other && name.equals(other.name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
