package io.streambelief.launcher.federated;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import io.streambelief.model.Example;
import io.streambelief.model.federated.CentralNoise;

/**
 * Splits a data set over clients the way federated-learning papers make data non-IID (Hsu et al.
 * 2019): for each label, the share of its examples each client gets is drawn from a symmetric
 * Dirichlet(α). Small α gives each client few labels; large α approaches an even, IID split.
 */
public final class DirichletSplit {
    /** A client with fewer examples than this could not fill a mini-batch: the split is drawn again. */
    static final int MIN_EXAMPLES = 10;
    private static final int MAX_DRAWS = 1_000;

    private DirichletSplit() {}

    public static List<List<Example>> split(List<Example> examples, int clients, double alpha, int numLabels, long seed) {
        if (clients < 1 || !(alpha > 0) || examples.size() < clients * MIN_EXAMPLES) {
            throw new IllegalArgumentException("Cannot split " + examples.size() + " examples over " + clients
                    + " clients with Dirichlet alpha " + alpha + " (each needs " + MIN_EXAMPLES + ")");
        }
        List<List<Example>> byLabel = new ArrayList<>();
        for (int label = 0; label < numLabels; label++) {
            byLabel.add(new ArrayList<>());
        }
        examples.forEach(example -> byLabel.get(example.label()).add(example));
        SplittableRandom random = new SplittableRandom(seed);
        for (int draw = 0; draw < MAX_DRAWS; draw++) {
            List<List<Example>> split = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                split.add(new ArrayList<>());
            }
            for (List<Example> labelled : byLabel) {
                double[] shares = dirichlet(clients, alpha, random);
                int from = 0;
                double cumulative = 0;
                for (int c = 0; c < clients; c++) {
                    cumulative += shares[c];
                    int to = c == clients - 1 ? labelled.size() : (int) Math.round(cumulative * labelled.size());
                    split.get(c).addAll(labelled.subList(from, Math.max(from, to)));
                    from = Math.max(from, to);
                }
            }
            if (split.stream().allMatch(client -> client.size() >= MIN_EXAMPLES)) {
                return split;
            }
        }
        throw new IllegalArgumentException("Dirichlet alpha " + alpha + " leaves some of the " + clients + " clients "
                + "with fewer than " + MIN_EXAMPLES + " examples in every draw; use a larger alpha or fewer clients");
    }

    /** A draw from the symmetric Dirichlet(α): normalised Gamma(α) draws. */
    static double[] dirichlet(int n, double alpha, SplittableRandom random) {
        double[] draws = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            draws[i] = gamma(alpha, random);
            sum += draws[i];
        }
        for (int i = 0; i < n; i++) {
            draws[i] /= sum;
        }
        return draws;
    }

    /** Marsaglia and Tsang's Gamma(shape, 1); below shape 1 through Gamma(shape + 1)·U^(1/shape). */
    private static double gamma(double shape, SplittableRandom random) {
        if (shape < 1) {
            return gamma(shape + 1, random) * Math.pow(random.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = CentralNoise.standardNormal(random);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }

}
