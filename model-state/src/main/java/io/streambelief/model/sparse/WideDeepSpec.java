package io.streambelief.model.sparse;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

import io.streambelief.model.ModelSpec;

/**
 * A wide &amp; deep model (Cheng et al., 2016) as a preset: {@code widedeep:dim=16,mlp=64-32}.
 * The wide part is one weight per feature id; the deep part an embedding of {@code dim} floats per
 * id, one per slot (categorical field or cross), concatenated with the numeric inputs and fed to
 * an MLP with the given hidden sizes. Both end in one logit: {@code p = sigmoid(wide + deep)}.
 *
 * <p>The MLP is an ordinary DL4J {@link ModelSpec} ({@code mlp:IN-64-32-1}), so its parameters
 * are sharded and trained data-parallel exactly like a dense model's; the rows are the
 * model-parallel part.
 */
public record WideDeepSpec(int dim, List<Integer> hidden) implements Serializable {
    public static final String PREFIX = "widedeep:";
    public static final String DEFAULT = "widedeep:dim=16,mlp=64-32";

    public WideDeepSpec {
        hidden = List.copyOf(hidden);
        if (dim < 1 || dim > 1024) {
            throw new IllegalArgumentException("widedeep: dim must be 1..1024, got " + dim);
        }
        for (int size : hidden) {
            if (size < 1) {
                throw new IllegalArgumentException("widedeep: hidden sizes must be positive, got " + size);
            }
        }
    }

    public static boolean isWideDeep(String spec) {
        return spec != null && spec.strip().toLowerCase(Locale.ROOT).startsWith(PREFIX);
    }

    /** Parses {@code widedeep:dim=16,mlp=64-32}; both settings are optional (defaults 16 and 64-32). */
    public static WideDeepSpec parse(String text) {
        if (!isWideDeep(text)) {
            throw new IllegalArgumentException("Not a wide & deep spec: '" + text + "'; write e.g. " + DEFAULT);
        }
        int dim = 16;
        List<Integer> hidden = List.of(64, 32);
        String settings = text.strip().substring(PREFIX.length());
        for (String pair : settings.isBlank() ? new String[0] : settings.split(",")) {
            String[] kv = pair.split("=", 2);
            String key = kv[0].strip().toLowerCase(Locale.ROOT);
            String value = kv.length == 2 ? kv[1].strip() : "";
            try {
                switch (key) {
                    case "dim" -> dim = Integer.parseInt(value);
                    case "mlp" -> {
                        List<Integer> sizes = new ArrayList<>();
                        for (String size : value.isEmpty() ? new String[0] : value.split("-")) {
                            sizes.add(Integer.parseInt(size.strip()));
                        }
                        hidden = sizes;
                    }
                    default -> throw new IllegalArgumentException("Wide & deep spec '" + text + "': unknown setting '"
                            + key + "'; write e.g. " + DEFAULT);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Wide & deep spec '" + text + "': '" + value + "' is not a number "
                        + "(write e.g. " + DEFAULT + ")");
            }
        }
        return new WideDeepSpec(dim, hidden);
    }

    /** The deep part's MLP for {@code slots} embedded slots and {@code numerics} numeric inputs. */
    public ModelSpec denseSpec(int slots, int numerics, long seed) {
        StringBuilder mlp = new StringBuilder("mlp:").append(slots * dim + numerics);
        for (int size : hidden) {
            mlp.append('-').append(size);
        }
        return ModelSpec.parse(mlp.append("-1").toString(), seed);
    }

    @Override
    public String toString() {
        return PREFIX + "dim=" + dim + ",mlp=" + hidden.stream().map(String::valueOf).collect(Collectors.joining("-"));
    }
}
