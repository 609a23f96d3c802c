package io.streambelief.federated;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.record.ModelUpdate;

/**
 * One participant of federated training — a phone, a hospital, a bank — embedded in its own
 * process. It reads the global model from {@code model-params}, trains on examples that never
 * leave it ({@link LocalTraining}), and sends only the resulting {@link ModelUpdate} to
 * {@code client-updates}, where the training job's aggregator counts it once.
 *
 * <pre>{@code
 * try (FederatedClient client = new FederatedClient(FederatedClient.Settings.of(bootstrap, "fashion", "hospital-7", spec))) {
 *     GlobalModel model = client.awaitModel(0, Duration.ofMinutes(1)).orElseThrow();
 *     client.send(client.train(model, model.version(), myExamples));
 * }
 * }</pre>
 */
public final class FederatedClient implements AutoCloseable {

    /**
     * @param shardSize the training job's {@code --shard-size}: how the model is cut into records
     */
    public record Settings(String bootstrapServers, String modelParamsTopic, String clientUpdatesTopic, String modelId,
            String clientId, ModelSpec spec, int shardSize, LocalTraining.Settings training) {

        public static final String MODEL_PARAMS = "model-params";
        public static final String CLIENT_UPDATES = "client-updates";

        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(modelId, "modelId");
            Objects.requireNonNull(spec, "spec");
            Objects.requireNonNull(training, "training");
            if (clientId == null || clientId.isBlank()) {
                throw new IllegalArgumentException("A federated client needs an id");
            }
        }

        /** The default topics, shard size and local training. */
        public static Settings of(String bootstrapServers, String modelId, String clientId, ModelSpec spec) {
            return new Settings(bootstrapServers, MODEL_PARAMS, CLIENT_UPDATES, modelId, clientId, spec,
                    ParameterLayout.DEFAULT_SHARD_SIZE, LocalTraining.Settings.DEFAULTS);
        }

        public Settings withTraining(LocalTraining.Settings training) {
            return new Settings(bootstrapServers, modelParamsTopic, clientUpdatesTopic, modelId, clientId, spec, shardSize,
                    training);
        }
    }

    private final Settings settings;
    private final GlobalModelReader reader;
    private final UpdateSender sender;
    private final GradientEngine engine;
    private final LocalTraining training;

    public FederatedClient(Settings settings) {
        this.settings = settings;
        this.reader = new GlobalModelReader(settings.bootstrapServers(), settings.modelParamsTopic(), settings.modelId(),
                settings.spec(), settings.shardSize());
        this.sender = new UpdateSender(settings.bootstrapServers(), settings.clientUpdatesTopic());
        this.engine = new Dl4jGradientEngine(settings.spec());
        this.training = new LocalTraining(settings.training(), settings.spec().numInputs(), engine);
    }

    public String clientId() {
        return settings.clientId();
    }

    /** The global model once it is at least {@code minVersion}; empty if the aggregator has not published it in time. */
    public Optional<GlobalModel> awaitModel(long minVersion, Duration timeout) {
        return reader.await(minVersion, timeout);
    }

    /**
     * The update training on {@code examples} makes to {@code model}, for FedAvg's {@code round}
     * (-1 for FedBuff, which needs only the model's version). Nothing is sent.
     */
    public ModelUpdate train(GlobalModel model, long round, List<Example> examples) {
        long shuffleSeed = settings.clientId().hashCode() * 31L + model.version();
        float[] delta = training.delta(model.parameters(), examples, shuffleSeed);
        return new ModelUpdate(settings.modelId(), settings.clientId(), round, model.version(), examples.size(),
                System.currentTimeMillis(), delta);
    }

    /** Sends {@code update} and waits until the broker has it. */
    public void send(ModelUpdate update) {
        if (!update.clientId().equals(settings.clientId())) {
            throw new IllegalArgumentException("Client " + settings.clientId() + " cannot send " + update.clientId()
                    + "'s update");
        }
        sender.send(update);
    }

    @Override
    public void close() {
        sender.close();
        reader.close();
        engine.close();
    }
}
