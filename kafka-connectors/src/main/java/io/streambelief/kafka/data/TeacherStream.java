package io.streambelief.kafka.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.streambelief.model.Example;

/**
 * A synthetic data set of any input size: a fixed random "teacher" network (inputs → tanh hidden
 * layer → classes) labels uniformly random inputs with its most probable class. A student network
 * can learn the labels (slower the wider the input: the teacher's 32 directions hide in more
 * dimensions), so it scales benchmarks to models far wider than Fashion-MNIST's 784 inputs
 * without downloading anything. Seeded: the same spec gives the same examples on every machine.
 *
 * <p>Spec: {@code teacher:<inputs>-<classes>[:<examples>]}, e.g. {@code teacher:4096-10:100000}.
 */
public final class TeacherStream {
    public static final String PREFIX = "teacher:";
    public static final int DEFAULT_EXAMPLES = 60_000;
    /** Data is data: the teacher does not change with the training run's seed. */
    public static final long SEED = 1;
    /** The teacher's hidden width: enough for a non-linear boundary, cheap to evaluate at 4096 inputs. */
    static final int HIDDEN = 32;

    private static final Pattern SPEC = Pattern.compile("teacher:(\\d+)-(\\d+)(?::(\\d+))?");

    private TeacherStream() {}

    public static boolean isSpec(String data) {
        return data.startsWith(PREFIX);
    }

    /** The examples of a {@code teacher:...} spec, from the teacher of seed {@value #SEED}. */
    public static ExampleSet generate(String spec) {
        Matcher m = SPEC.matcher(spec.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + spec + "' is not a teacher spec; use teacher:<inputs>-<classes>"
                    + "[:<examples>], e.g. teacher:4096-10:100000");
        }
        int inputs = Integer.parseInt(m.group(1));
        int classes = Integer.parseInt(m.group(2));
        int examples = m.group(3) == null ? DEFAULT_EXAMPLES : Integer.parseInt(m.group(3));
        if (inputs < 1 || classes < 2 || examples < 1) {
            throw new IllegalArgumentException("'" + spec + "': need at least 1 input, 2 classes and 1 example");
        }
        return generate(inputs, classes, examples, SEED);
    }

    public static ExampleSet generate(int inputs, int classes, int examples, long seed) {
        Random random = new Random(seed);
        // Scaled so the hidden pre-activations have unit variance for inputs uniform in [0, 1).
        float[] w1 = gaussian(random, inputs * HIDDEN, (float) Math.sqrt(3.0 / inputs));
        float[] b1 = new float[HIDDEN];
        float[] w2 = gaussian(random, HIDDEN * classes, 1f);
        // Centre the inputs' contribution so tanh works on both sides of zero.
        for (int h = 0; h < HIDDEN; h++) {
            float sum = 0;
            for (int i = 0; i < inputs; i++) {
                sum += w1[i * HIDDEN + h];
            }
            b1[h] = -0.5f * sum;
        }
        List<Example> data = new ArrayList<>(examples);
        float[] hidden = new float[HIDDEN];
        for (int n = 0; n < examples; n++) {
            float[] x = new float[inputs];
            for (int i = 0; i < inputs; i++) {
                x[i] = random.nextFloat();
            }
            System.arraycopy(b1, 0, hidden, 0, HIDDEN);
            for (int i = 0; i < inputs; i++) {
                float xi = x[i];
                int row = i * HIDDEN;
                for (int h = 0; h < HIDDEN; h++) {
                    hidden[h] += xi * w1[row + h];
                }
            }
            for (int h = 0; h < HIDDEN; h++) {
                hidden[h] = (float) Math.tanh(hidden[h]);
            }
            int best = 0;
            float bestScore = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                float score = 0;
                for (int h = 0; h < HIDDEN; h++) {
                    score += hidden[h] * w2[h * classes + c];
                }
                if (score > bestScore) {
                    bestScore = score;
                    best = c;
                }
            }
            data.add(new Example(x, best));
        }
        return new ExampleSet("teacher:" + inputs + "-" + classes + ":" + examples, inputs, classes, data);
    }

    private static float[] gaussian(Random random, int n, float scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian() * scale;
        }
        return values;
    }
}
