package io.streambelief.flink.config;

import java.time.Duration;
import java.util.function.Predicate;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.federated.ClientSampling;
import io.streambelief.model.federated.ServerOptimizer;
import io.streambelief.model.trainer.EngineChoice;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.WideDeepSpec;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * The training job's command-line options, shared by {@code ./run-local} and the cluster entry
 * point {@code TrainingJobCommand}. Parsed once into a {@link TrainingConfig}.
 */
public final class TrainingOptions {

    @Option(names = "--model", paramLabel = "SPEC",
            description = "Model: a preset such as mlp:784-256-128-10 (input, hidden..., classes) or the path of a "
                    + "DL4J MultiLayerConfiguration JSON file; with --schema a wide & deep preset such as "
                    + WideDeepSpec.DEFAULT + ". Default: the data set's input size with hidden layers 256-128 "
                    + "(mlp:784-256-128-10 for Fashion-MNIST); " + WideDeepSpec.DEFAULT + " with --schema.")
    String model;

    @Option(names = "--schema", paramLabel = "FILE",
            description = "Makes the model sparse (wide & deep): the feature schema of the examples' named fields "
                    + "(JSON; see the README), or 'flights' for the bundled one. Default: none (a dense model).")
    String schema;

    @Option(names = "--embedding-shards", paramLabel = "N", defaultValue = "" + SparseTraining.AS_MANY_AS_WORKERS,
            description = "Sparse models: parallelism of the embedding-shard operator that keeps the rows, 1.."
                    + SparseTraining.MAX_EMBEDDING_SHARDS + ". Default: as many as workers.")
    int embeddingShards;

    @Option(names = "--min-count", paramLabel = "N", defaultValue = "" + SparseTraining.DEFAULT_MIN_COUNT,
            description = "Sparse models: an id gets a row from its N-th sighting on; before that it reads as "
                    + "zeros. Default: ${DEFAULT-VALUE}.")
    int minCount;

    @Option(names = "--row-ttl", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Sparse models: rows no gradient touched for this long disappear. Default: never.")
    Duration rowTtl;

    @Option(names = "--fresh-rows", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Sparse models: lookups and embedding-rows show a row gradient as soon as it is written, "
                    + "before the checkpoint that commits it (the rows' state still takes it once committed). "
                    + "--no-fresh-rows reads embedding-gradients once, committed only. Default: ${DEFAULT-VALUE}.")
    boolean freshRows;

    @Option(names = "--wide-optimizer", paramLabel = "NAME[:k=v,...]", defaultValue = EmbeddingTable.DEFAULT_WIDE_OPTIMIZER,
            description = "Sparse models: optimizer of the wide weights, " + RowOptimizer.SUPPORTED
                    + ". Default: ${DEFAULT-VALUE}.")
    String wideOptimizer;

    @Option(names = "--deep-optimizer", paramLabel = "NAME[:k=v,...]", defaultValue = EmbeddingTable.DEFAULT_DEEP_OPTIMIZER,
            description = "Sparse models: optimizer of the embeddings. Default: ${DEFAULT-VALUE}.")
    String deepOptimizer;

    @Option(names = "--model-name", paramLabel = "NAME", defaultValue = TrainingConfig.DEFAULT_MODEL_ID,
            description = "Name of the model: its Kafka key prefix and its serving URL. Default: ${DEFAULT-VALUE}.")
    String modelName;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "" + TrainingConfig.DEFAULT_SEED,
            description = "Seed of the model's initialization and of the data order. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--optimizer", paramLabel = "NAME[:k=v,...]", defaultValue = Optimizer.DEFAULT,
            description = "Optimizer the parameter servers apply: " + Optimizer.SUPPORTED
                    + ". Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = TrainingConfig.DEFAULT_ENGINE, converter = EngineConverter.class,
            description = "Gradient engine of the workers: cpu (DL4J), cuda (our own engine on cuBLAS; the host needs "
                    + "an NVIDIA driver R580+ with cuBLAS 13 and NVRTC 13) or auto (cuda where a GPU is usable, else "
                    + "cpu, saying why). Default: ${DEFAULT-VALUE}.")
    EngineChoice engine;

    @Option(names = "--workers", paramLabel = "W", defaultValue = "" + Parallelism.DEFAULT_WORKERS,
            description = "Worker replicas computing gradients in parallel. Default: ${DEFAULT-VALUE}.")
    int workers;

    @Option(names = "--parameter-servers", paramLabel = "N", defaultValue = "" + Parallelism.ONE_PER_WORKER,
            description = "Parameter-server subtasks (0: one per worker, at most one per shard). Default: ${DEFAULT-VALUE}.")
    int parameterServers;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "" + MiniBatches.DEFAULT_BATCH_SIZE,
            description = "Examples per mini-batch of each worker. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--n-push", paramLabel = "N", defaultValue = "" + MiniBatches.DEFAULT_N_PUSH,
            description = "Mini-batches a worker sums before pushing its gradient (Downpour). Default: ${DEFAULT-VALUE}.")
    int nPush;

    @Option(names = "--n-fetch", paramLabel = "N", defaultValue = "" + MiniBatches.DEFAULT_N_FETCH,
            description = "A worker takes in new parameters at most every n mini-batches (Downpour). Default: ${DEFAULT-VALUE}.")
    int nFetch;

    @Option(names = "--clip-norm", paramLabel = "C",
            description = "Scale each mini-batch's gradient down to L2 norm C (over all parameters) when it is longer; "
                    + "0: no clipping. Default: " + TrainingConfig.DEFAULT_CLIP_NORM + " with sgd and momentum, "
                    + "whose steps grow with the gradient, so that no one example can ruin the model; off with "
                    + "adagrad and adam, which bound each step themselves.")
    Double clipNorm;

    @Option(names = "--gradient-density", paramLabel = "FRACTION",
            description = "Fraction of each shard's gradient entries a push sends: the largest by magnitude; the rest "
                    + "waits in the worker's checkpointed residual and joins later pushes (error feedback). "
                    + "1: send everything. Default: 0.01 for dense models, 1 for sparse ones and in bsp mode.")
    Double gradientDensity;

    @Option(names = "--bfloat16", negatable = true,
            description = "Round pushed gradient entries to bfloat16 (their rounding error joins the residual). "
                    + "Default: on for dense models but in bsp mode (--no-bfloat16: 32-bit floats).")
    Boolean bfloat16;

    @Option(names = "--warmstart", paramLabel = "EXAMPLES",
            description = "Examples trained by one worker before the others join (DistBelief's warmstart; async "
                    + "mode only). Default: " + TrainingConfig.DEFAULT_WARMSTART_EXAMPLES + " in async mode.")
    Long warmstart;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = Synchronization.DEFAULT_MODE, converter = ModeConverter.class,
            description = "How workers synchronize: async (Downpour: never wait), ssp (wait when more than "
                    + "--staleness pushes ahead of the slowest worker) or bsp (lockstep: exactly one process with "
                    + "batch W x B); or federated, where clients train and the job aggregates their updates: "
                    + "fedavg (rounds) or fedbuff (asynchronous, every --buffer-size updates). Default: ${DEFAULT-VALUE}.")
    TrainingMode mode;

    @Option(names = "--dealing", paramLabel = "HOW", defaultValue = TrainingConfig.DEFAULT_DEALING, converter = DealingConverter.class,
            description = "How examples reach the workers: round-robin (in turn, an even share each) or partition "
                    + "(each worker trains its own partition of the examples topic in order, one partition per "
                    + "worker: reproducible runs, in BSP mode the same model whatever fails). "
                    + "Default: ${DEFAULT-VALUE}.")
    Dealing dealing;

    @Option(names = "--staleness", paramLabel = "S", defaultValue = "" + Synchronization.DEFAULT_STALENESS_BOUND,
            description = "SSP's bound: pushes a worker may run ahead of the slowest worker. Default: ${DEFAULT-VALUE}.")
    int staleness;

    @Option(names = "--average-decay", paramLabel = "D", defaultValue = "" + TrainingConfig.DEFAULT_AVERAGE_DECAY,
            description = "Per-step decay of the parameters' moving average, which serving answers with "
                    + "(0: no average, serve the latest values). Default: ${DEFAULT-VALUE}.")
    double averageDecay;

    @Option(names = "--shard-size", paramLabel = "FLOATS", defaultValue = "" + ParameterLayout.DEFAULT_SHARD_SIZE,
            description = "Parameters per shard (the parameter servers' key). Default: ${DEFAULT-VALUE}.")
    int shardSize;

    @Option(names = "--publish-interval", paramLabel = "DURATION", defaultValue = Intervals.DEFAULT_PUBLISH,
            converter = DurationConverter.class,
            description = "A shard publishes its values at most this often. Default: ${DEFAULT-VALUE}.")
    Duration publishInterval;

    @Option(names = "--serving-publish-interval", paramLabel = "DURATION",
            defaultValue = Intervals.DEFAULT_SERVING_PUBLISH, converter = DurationConverter.class,
            description = "Async modes: a shard's whole values go to model-params, which the model server reads, "
                    + "at most this often (never more often than --publish-interval); the workers still get "
                    + "deltas every --publish-interval. Longer: less broker and server work on a small machine, "
                    + "a served model up to this much older. Default: ${DEFAULT-VALUE}.")
    Duration servingPublishInterval;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = Intervals.DEFAULT_CHECKPOINT,
            converter = DurationConverter.class, description = "Flink checkpoint interval. Default: ${DEFAULT-VALUE}.")
    Duration checkpointInterval;

    @Option(names = "--examples-topic", paramLabel = "TOPIC", defaultValue = TopicNames.EXAMPLES, description = "Default: ${DEFAULT-VALUE}.")
    String examplesTopic;

    @Option(names = "--params-topic", paramLabel = "TOPIC", defaultValue = TopicNames.MODEL_PARAMS, description = "Default: ${DEFAULT-VALUE}.")
    String paramsTopic;

    @Option(names = "--snapshots-topic", paramLabel = "TOPIC", defaultValue = TopicNames.MODEL_SNAPSHOTS, description = "Default: ${DEFAULT-VALUE}.")
    String snapshotsTopic;

    @Option(names = "--dead-letter-topic", paramLabel = "TOPIC", defaultValue = TopicNames.DEAD_LETTER, description = "Default: ${DEFAULT-VALUE}.")
    String deadLetterTopic;

    @Option(names = "--metrics-topic", paramLabel = "TOPIC", defaultValue = TopicNames.TRAINING_METRICS, description = "Default: ${DEFAULT-VALUE}.")
    String metricsTopic;

    @Option(names = "--param-deltas-topic", paramLabel = "TOPIC", defaultValue = TopicNames.MODEL_PARAM_DELTAS,
            description = "Where the parameter servers send async workers what changed. Default: ${DEFAULT-VALUE}.")
    String paramDeltasTopic;

    @Option(names = "--embedding-gradients-topic", paramLabel = "TOPIC", defaultValue = TopicNames.EMBEDDING_GRADIENTS,
            description = "Sparse models: where workers send row gradients to the embedding shards. "
                    + "Default: ${DEFAULT-VALUE}.")
    String embeddingGradientsTopic;

    @Option(names = "--embedding-rows-topic", paramLabel = "TOPIC", defaultValue = TopicNames.EMBEDDING_ROWS,
            description = "Sparse models: where the embedding shards publish rows for serving. Default: ${DEFAULT-VALUE}.")
    String embeddingRowsTopic;

    @Option(names = "--client-updates-topic", paramLabel = "TOPIC", defaultValue = TopicNames.CLIENT_UPDATES,
            description = "Federated modes: where clients send their model updates. Default: ${DEFAULT-VALUE}.")
    String clientUpdatesTopic;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "0",
            description = "fedavg: the client population client-0..client-(N-1), of which each round samples "
                    + "--clients-per-round (clients compute the same sample from --seed); 0: any client may report. "
                    + "Default: ${DEFAULT-VALUE}.")
    int clients;

    @Option(names = "--clients-per-round", paramLabel = "K", defaultValue = "0",
            description = "fedavg with --clients: clients sampled per round. Default: all of them.")
    int clientsPerRound;

    @Option(names = "--min-clients", paramLabel = "N", defaultValue = "" + Federation.DEFAULT_MIN_CLIENTS,
            description = "fedavg: a round closes with at least this many updates, when all sampled clients have "
                    + "reported or the deadline has passed. Default: ${DEFAULT-VALUE}.")
    int minClients;

    @Option(names = "--round-deadline", paramLabel = "DURATION", defaultValue = Federation.DEFAULT_ROUND_DEADLINE,
            converter = DurationConverter.class,
            description = "fedavg: how long a round waits for stragglers once --min-clients have reported. "
                    + "Default: ${DEFAULT-VALUE}.")
    Duration roundDeadline;

    @Option(names = "--buffer-size", paramLabel = "K", defaultValue = "" + Federation.DEFAULT_BUFFER_SIZE,
            description = "fedbuff: client updates per new model version. Default: ${DEFAULT-VALUE}.")
    int bufferSize;

    @Option(names = "--max-staleness", paramLabel = "VERSIONS", defaultValue = "" + Federation.DEFAULT_MAX_STALENESS,
            description = "fedbuff: an update from a model older than this many versions is dropped. "
                    + "Default: ${DEFAULT-VALUE}.")
    long maxStaleness;

    @Option(names = "--server-optimizer", paramLabel = "NAME[:k=v,...]", defaultValue = Federation.DEFAULT_SERVER_OPTIMIZER,
            description = "Federated modes: how the mean update is applied, " + ServerOptimizer.SUPPORTED
                    + ". Default: ${DEFAULT-VALUE}.")
    String serverOptimizer;

    @Option(names = "--noise-multiplier", paramLabel = "Z", defaultValue = "0",
            description = "Federated modes: central differential privacy, Gaussian noise of Z x --update-clip-norm "
                    + "added to each aggregate (0: none); the run's epsilon is logged per round. Default: ${DEFAULT-VALUE}.")
    double noiseMultiplier;

    @Option(names = "--update-clip-norm", paramLabel = "C", defaultValue = "" + Federation.DEFAULT_CLIP_NORM,
            description = "Federated modes: the L2 norm clients clip their updates to, which the noise is "
                    + "calibrated to. Default: ${DEFAULT-VALUE}.")
    double updateClipNorm;

    @Option(names = "--dp-delta", paramLabel = "DELTA", defaultValue = "" + Federation.DEFAULT_DELTA,
            description = "Federated modes with noise: the delta epsilon is reported for. Default: ${DEFAULT-VALUE}.")
    double dpDelta;

    public TopicNames topics() {
        return new TopicNames(examplesTopic, paramsTopic, snapshotsTopic, deadLetterTopic, metricsTopic,
                embeddingGradientsTopic, embeddingRowsTopic, paramDeltasTopic, clientUpdatesTopic);
    }

    /**
     * Makes the run federated over simulated clients client-0..client-(n-1) where the command line
     * did not say otherwise ({@code given} tells which options it gave): fedavg, all n clients in
     * the population, {@code perRound} of them per round, a round deadline for their speed.
     */
    public void simulateClients(int n, int perRound, Duration deadline, Predicate<String> given) {
        if (!given.test("--mode")) {
            mode = TrainingMode.FEDAVG;
        } else if (!mode.isFederated()) {
            throw new IllegalArgumentException("Simulated clients train in a federated mode: use --mode fedavg or "
                    + "fedbuff with --federated, not " + mode);
        }
        if (given.test("--clients") && clients != n) {
            throw new IllegalArgumentException("--clients " + clients + " but --federated " + n + ": leave --clients out");
        }
        clients = n;
        if (!given.test("--clients-per-round")) {
            clientsPerRound = perRound;
        }
        if (!given.test("--round-deadline")) {
            roundDeadline = deadline;
        }
    }

    /** The federated options; checked whatever the mode, used in the federated ones. */
    public Federation federation() {
        ClientSampling sampling = clients == 0 ? ClientSampling.ANY_CLIENT
                : new ClientSampling(clients, clientsPerRound == 0 ? clients : clientsPerRound, seed);
        return new Federation(sampling, minClients, roundDeadline, bufferSize, maxStaleness,
                ServerOptimizer.parse(serverOptimizer), noiseMultiplier, updateClipNorm, dpDelta);
    }

    /**
     * The configuration, for data of {@code numFeatures} inputs and {@code numLabels} classes when
     * no model was given.
     */
    public TrainingConfig toConfig(String bootstrapServers, int numFeatures, int numLabels) {
        return TrainingConfig.builder(bootstrapServers)
                .topics(topics())
                .modelId(modelName)
                .spec(schema == null ? spec(numFeatures, numLabels) : null)
                .seed(seed)
                .sparse(sparse())
                .shardSize(shardSize)
                .optimizer(Optimizer.parse(optimizer))
                .engine(engine)
                .workers(workers)
                .parameterServers(parameterServers)
                .batchSize(batchSize)
                .nPush(nPush)
                .nFetch(nFetch)
                .mode(mode)
                .stalenessBound(staleness)
                .clipNorm(clipNorm)
                .compression(compression())
                .warmstartExamples(warmstart)
                .dealing(dealing)
                .averageDecay(averageDecay)
                .publishInterval(publishInterval)
                .servingPublishInterval(servingPublishInterval)
                .checkpointInterval(checkpointInterval)
                .federation(federation())
                .build();
    }

    /** The gradient compression the options ask for; null (the default) when neither is given. */
    private GradientCompression compression() {
        if (gradientDensity == null && bfloat16 == null) {
            return null;
        }
        GradientCompression base = isSparse() || mode == TrainingMode.BSP ? GradientCompression.NONE
                : TrainingConfig.DEFAULT_COMPRESSION;
        return new GradientCompression(gradientDensity != null ? gradientDensity : base.density(),
                bfloat16 != null ? bfloat16 : base.bfloat16());
    }

    /** The sparse part given by --schema and the row options; null for a dense model. */
    public SparseTraining sparse() {
        if (schema == null) {
            return null;
        }
        WideDeepSpec wideDeep = WideDeepSpec.parse(model != null ? model : WideDeepSpec.DEFAULT);
        EmbeddingTable table = new EmbeddingTable(wideDeep.dim(), RowOptimizer.parse(wideOptimizer),
                RowOptimizer.parse(deepOptimizer), seed);
        return new SparseTraining(FeatureSchema.load(schema), wideDeep, table,
                embeddingShards > SparseTraining.AS_MANY_AS_WORKERS ? embeddingShards : workers, minCount, rowTtl,
                freshRows);
    }

    public boolean isSparse() {
        return schema != null;
    }

    /** Makes the model sparse with this schema (for --data flights, which implies the bundled one). */
    public void useSchema(String schemaFileOrBundled) {
        if (schema == null) {
            schema = schemaFileOrBundled;
        }
    }

    public String modelName() {
        return modelName;
    }

    public void modelName(String name) {
        modelName = name;
    }

    /** The model given by --model, or the default MLP for data of this shape. */
    public ModelSpec spec(int numFeatures, int numLabels) {
        String spec = model != null ? model
                : "mlp:" + numFeatures + "-256-128-" + (numLabels == 2 ? 1 : numLabels);
        return ModelSpec.parse(spec, seed);
    }

    public long seed() {
        return seed;
    }

    /** Durations written the way people write them: {@code 250ms}, {@code 5s}, {@code 2m} ({@link Intervals#parse}). */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String text) {
            return Intervals.parse(text);
        }
    }

    public static final class EngineConverter implements ITypeConverter<EngineChoice> {
        @Override
        public EngineChoice convert(String value) {
            return EngineChoice.parse(value);
        }
    }

    public static final class ModeConverter implements ITypeConverter<TrainingMode> {
        @Override
        public TrainingMode convert(String value) {
            return TrainingMode.parse(value);
        }
    }

    public static final class DealingConverter implements ITypeConverter<Dealing> {
        @Override
        public Dealing convert(String value) {
            return Dealing.parse(value);
        }
    }
}
