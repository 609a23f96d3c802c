package io.streambelief.serving;

import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.engine.NativeArrays;

/**
 * One immutable version of a served model: the parameters as they were when the snapshot was
 * taken, with the version they carry. Requests pick up the current snapshot once and compute
 * everything with it, so an answer never mixes two versions and always names the one it used.
 *
 * <p>A snapshot holds two parameter sets: the latest values, and their moving average over
 * recent steps (when the job keeps one), which is what requests get by default: asynchronous
 * training makes the latest values noisy, and the average is the more accurate model.
 *
 * <p>A model is either a {@link DenseModel}, which takes rows of numbers, or a
 * {@link WideDeepModel}, which takes named fields and looks up embedding rows.
 */
public sealed interface ServedModel permits DenseModel, WideDeepModel {

    /** The model's name. */
    String name();

    /** The model; for a wide &amp; deep model, its deep part's MLP. */
    ModelSpec spec();

    /**
     * What the model is, as its job was told: the MLP's spec for a dense model, the wide &amp; deep
     * spec ({@code widedeep:dim=8,mlp=64-32}) for a sparse one, whose {@link #spec()} is only its
     * deep part.
     */
    default String specLabel() {
        return spec().source();
    }

    /** Whether the model answers one probability, of the positive class (judged by AUC and log loss, not accuracy). */
    default boolean binary() {
        return spec().numOutputs() == 1;
    }

    /**
     * The sum of the shards' record timestamps; each shard's are strictly increasing, also after
     * the job restores from a checkpoint, so the version grows with every update folded in and
     * never goes back (a shard's own version, its step count, does go back on a restore).
     */
    long modelVersion();

    /** Examples whose gradients are in every shard of these parameters. */
    long examplesTrained();

    /** Time of the newest shard update in these parameters. */
    long updatedAtMillis();

    /** Number of parameter shards. */
    int shards();

    /**
     * The Flink checkpoint these values were taken at, when served from {@code model-snapshots};
     * -1 when served from the latest shard records.
     */
    long checkpointId();

    /** The latest values. */
    Network latest();

    /** Their moving average, or {@code null} when the job keeps none. */
    Network average();

    /**
     * What Java 17 offers for an exhaustive switch over the kinds of model: a third kind has to
     * change this signature, and with it every caller.
     */
    <T> T fold(Function<? super DenseModel, ? extends T> dense, Function<? super WideDeepModel, ? extends T> wideDeep);

    /** The parameter sets a request can ask for, by TF Serving's version label. */
    enum Parameters {
        AVERAGE, LATEST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What requests without a label get. */
    default Parameters defaultParameters() {
        return average() != null ? Parameters.AVERAGE : Parameters.LATEST;
    }

    default boolean has(Parameters parameters) {
        return parameters == Parameters.LATEST || average() != null;
    }

    default Network network(Parameters parameters) {
        if (!has(parameters)) {
            throw new IllegalArgumentException("model " + name() + " has no " + parameters.label() + " parameters");
        }
        return parameters == Parameters.AVERAGE ? average() : latest();
    }

    /**
     * One parameter set of a snapshot. DL4J networks are not thread-safe (a forward pass keeps
     * its activations in the layers), so each concurrent request borrows a network of its own
     * from a small pool; all of them are views of one parameter array, so a network costs a few
     * layer objects, not a copy of the parameters. Networks are built on first use: snapshots
     * arrive several times a second and most are replaced before any request needs them.
     */
    final class Network {
        private final MultiLayerConfiguration configuration;
        private final float[] parameters;
        private final Queue<MultiLayerNetwork> idle = new ConcurrentLinkedQueue<>();
        private final PredictionBatcher batcher = new PredictionBatcher(this::output);
        private INDArray flat;

        Network(MultiLayerConfiguration configuration, float[] parameters) {
            this.configuration = configuration;
            this.parameters = parameters;
        }

        float[][] output(float[][] rows) {
            return borrow(network -> output(network, rows));
        }

        /** The same, gathered with other requests' rows on this parameter set as {@code batching} says. */
        float[][] output(float[][] rows, PredictionBatcher.Settings batching) {
            return batcher.predict(rows, batching);
        }

        /** Forward passes that answered {@link #output(float[][], PredictionBatcher.Settings)}. */
        long passes() {
            return batcher.passes();
        }

        /** Runs {@code work} on a network of this parameter set that no other request uses meanwhile. */
        <T> T borrow(Function<MultiLayerNetwork, T> work) {
            MultiLayerNetwork network = idle.poll();
            if (network == null) {
                network = build();
            }
            try {
                return work.apply(network);
            } finally {
                idle.offer(network);
            }
        }

        /** Networks built so far: at most the number of requests that ever ran at once on this snapshot. */
        int networks() {
            return idle.size();
        }

        private MultiLayerNetwork build() {
            INDArray shared;
            synchronized (this) {
                if (flat == null) {
                    flat = NativeArrays.matrix(parameters, 1, parameters.length);
                }
                shared = flat;
            }
            MultiLayerNetwork network = new MultiLayerNetwork(configuration.clone());
            network.init(shared, false);
            return network;
        }

        private static float[][] output(MultiLayerNetwork network, float[][] rows) {
            int inputs = rows[0].length;
            float[] features = new float[rows.length * inputs];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(rows[i], 0, features, i * inputs, inputs);
            }
            INDArray output = network.output(NativeArrays.matrix(features, rows.length, inputs));
            int outputs = (int) output.size(1);
            float[] flat = NativeArrays.copyOut(output);
            float[][] result = new float[rows.length][outputs];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(flat, i * outputs, result[i], 0, outputs);
            }
            return result;
        }
    }
}
