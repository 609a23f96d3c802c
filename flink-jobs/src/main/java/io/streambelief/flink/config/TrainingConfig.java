package io.streambelief.flink.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

import io.streambelief.kafka.topic.TopicNames;
import io.streambelief.kafka.topic.Topics;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.trainer.EngineChoice;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.trainer.StepBound;
import io.streambelief.model.trainer.Trainer;

/**
 * Everything the training job needs, parsed and checked once. Built with {@link #builder}, whose
 * setters document each default. Each default is a constant, here or in the group of options it
 * belongs to ({@link Parallelism}, {@link MiniBatches}, {@link Synchronization}, {@link Intervals},
 * {@link TopicNames}), which the command line ({@link TrainingOptions}) takes its own from; each
 * group checks its own values, and this record what holds between groups.
 */
public record TrainingConfig(
        String bootstrapServers,
        TopicNames topics,
        String modelId,
        ModelSpec spec,
        long seed,
        int shardSize,
        Optimizer optimizer,
        EngineChoice engine,
        Parallelism parallelism,
        MiniBatches miniBatches,
        Synchronization synchronization,
        double clipNorm,
        GradientCompression compression,
        long warmstartExamples,
        Dealing dealing,
        double averageDecay,
        Intervals intervals,
        int maxExampleBytes,
        FailureInjection failureInjection,
        SparseTraining sparse,
        Federation federation) implements Serializable {

    public TrainingConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(topics, "topics");
        ModelIds.check(modelId);
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(parallelism, "parallelism");
        Objects.requireNonNull(miniBatches, "miniBatches");
        Objects.requireNonNull(synchronization, "synchronization");
        Objects.requireNonNull(intervals, "intervals");
        TrainingMode mode = synchronization.mode();
        int nPush = miniBatches.nPush();
        int nFetch = miniBatches.nFetch();
        positive("shard size", shardSize);
        positive("max example bytes", maxExampleBytes);
        Objects.requireNonNull(failureInjection, "failureInjection");
        Objects.requireNonNull(compression, "compression");
        if (!(averageDecay >= 0 && averageDecay < 1)) {
            throw new IllegalArgumentException("average decay must be in [0, 1), got " + averageDecay);
        }
        Objects.requireNonNull(dealing, "dealing");
        Objects.requireNonNull(federation, "federation");
        if (mode.isFederated() && sparse != null) {
            throw new IllegalArgumentException("Federated training aggregates dense models; leave --schema out");
        }
        if (mode != TrainingMode.ASYNC && warmstartExamples > 0) {
            throw new IllegalArgumentException("Warmstart is for async training: in " + mode + " mode the other "
                    + "workers' clocks would hold the first worker back; leave --warmstart out or set it to 0");
        }
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("gradient clipping norm must be >= 0 (0: off), got " + clipNorm);
        }
        if (warmstartExamples < 0) {
            throw new IllegalArgumentException("warmstart examples must be >= 0, got " + warmstartExamples);
        }
        if (dealing == Dealing.PARTITION && warmstartExamples > 0) {
            throw new IllegalArgumentException("With --dealing partition each worker trains its own partition from "
                    + "the start; leave --warmstart out or set it to 0");
        }
        if (dealing == Dealing.PARTITION && sparse != null) {
            throw new IllegalArgumentException("Sparse models deal their examples round-robin; leave --dealing out");
        }
        // A shard travels as one Kafka record: keep it under the broker's limit with room for the header.
        long shardBytes = 4L * shardSize + 1024;
        if (shardBytes > Topics.MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("Shard size " + shardSize + " floats makes records of " + shardBytes
                    + " bytes, over the " + Topics.MAX_RECORD_BYTES + "-byte record limit; use at most "
                    + ((Topics.MAX_RECORD_BYTES - 1024) / 4));
        }
        ParameterLayout.of(spec, shardSize);
        if (mode == TrainingMode.BSP && compression.isLossy()) {
            throw new IllegalArgumentException("BSP is one process with batch W x B; compressed pushes would break "
                    + "that and every worker's step must carry all of its gradient: leave --gradient-density and "
                    + "--bfloat16 out (BSP sends whole gradients)");
        }
        if (sparse != null && mode != TrainingMode.ASYNC) {
            throw new IllegalArgumentException("Sparse models train in async mode only (rows are updated by their "
                    + "shards as gradients arrive); leave --mode out");
        }
        if (sparse != null && engine == EngineChoice.CUDA) {
            throw new IllegalArgumentException("Sparse (wide & deep) models train on the CPU engine; leave --engine "
                    + "out or use auto");
        }
        if (sparse != null && (nPush != 1 || nFetch != 1 || warmstartExamples > 0 || clipNorm > 0
                || compression.isLossy())) {
            throw new IllegalArgumentException("Sparse models push and fetch at every mini-batch, without warmstart, "
                    + "clipping or gradient compression; leave --n-push, --n-fetch, --warmstart, --clip-norm, "
                    + "--gradient-density and --bfloat16 out");
        }
    }

    /**
     * The gradient norm each mini-batch is clipped to by default with SGD and momentum: above what
     * any mini-batch of sensible examples gives (the default model's mini-batches of 32 over an
     * epoch of Fashion-MNIST with SGD: median 1.7, p99 3.9, largest 6.6), so it changes nothing in
     * normal training, and it bounds the step one absurd example can cause to lr × 10.
     */
    public static final double DEFAULT_CLIP_NORM = 10;
    public static final String DEFAULT_MODEL_ID = "fashion";
    public static final long DEFAULT_SEED = 42;
    /** A word, as the command line writes it: {@link EngineChoice#parse} makes the default of it. */
    public static final String DEFAULT_ENGINE = "cpu";
    /** A word, as the command line writes it: {@link Dealing#parse} makes the default of it. */
    public static final String DEFAULT_DEALING = "round-robin";
    public static final double DEFAULT_AVERAGE_DECAY = 0.99;
    /** Async dense workers dealt round-robin start with this many examples on worker 0 alone; others with none. */
    public static final long DEFAULT_WARMSTART_EXAMPLES = 10_000;
    public static final int DEFAULT_MAX_EXAMPLE_BYTES = 1 << 20;

    /** What workers push unless told otherwise: chosen by {@code infra/bench training} (docs/benchmarks.md). */
    public static final GradientCompression DEFAULT_COMPRESSION = new GradientCompression(0.01, true);

    static void positive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
    }

    public int workers() {
        return parallelism.workers();
    }

    public int parameterServers() {
        return parallelism.parameterServers();
    }

    public int batchSize() {
        return miniBatches.batchSize();
    }

    public int nPush() {
        return miniBatches.nPush();
    }

    public int nFetch() {
        return miniBatches.nFetch();
    }

    public TrainingMode mode() {
        return synchronization.mode();
    }

    public int stalenessBound() {
        return synchronization.stalenessBound();
    }

    public Duration publishInterval() {
        return intervals.publish();
    }

    /**
     * How often at most an async job publishes a shard's whole values: {@link Intervals#servingPublish},
     * but never more often than {@link #publishInterval}.
     */
    public Duration servingPublishInterval() {
        return intervals.servingPublish().compareTo(intervals.publish()) < 0 ? intervals.publish()
                : intervals.servingPublish();
    }

    public Duration checkpointInterval() {
        return intervals.checkpoint();
    }

    public Duration metricsInterval() {
        return intervals.metrics();
    }

    public Duration idleFlush() {
        return intervals.idleFlush();
    }

    public ParameterLayout layout() {
        return ParameterLayout.of(spec, shardSize);
    }

    /**
     * Whether the parameter servers send the workers deltas ({@code model-param-deltas}) rather
     * than whole shards: for dense async workers, which take parameters through the job's input.
     * SSP and BSP workers follow {@code model-params} with consumers of their own, and sparse
     * workers read it too.
     */
    public boolean sendsDeltas() {
        return mode() == TrainingMode.ASYNC && sparse == null;
    }

    /** The worker loop's part of this configuration. */
    public Trainer.Settings trainerSettings() {
        StepBound bound = switch (mode()) {
            case ASYNC -> StepBound.NONE;
            case SSP -> StepBound.STALENESS;
            case BSP -> StepBound.SYNCHRONOUS;
            case FEDAVG, FEDBUFF -> throw new IllegalStateException("In " + mode() + " mode clients train, not workers");
        };
        return new Trainer.Settings(batchSize(), nFetch(), nPush(), clipNorm, compression, bound, stalenessBound(),
                workers());
    }

    public ModelDefinition definition() {
        return new ModelDefinition(modelId, spec, shardSize, sparse == null ? null : sparse.definition());
    }

    /**
     * Refuses an examples topic of {@code partitions} partitions that this configuration cannot
     * deal: with {@link Dealing#PARTITION} each worker needs exactly one.
     */
    public void checkExamplePartitions(int partitions) {
        if (dealing == Dealing.PARTITION && partitions != workers()) {
            throw new IllegalArgumentException("--dealing partition needs one examples partition per worker: topic "
                    + topics.examples() + " has " + partitions + " for " + workers() + " workers; use --workers "
                    + partitions + " or --dealing round-robin");
        }
    }

    /** Whether this is a sparse (wide &amp; deep) model, whose rows live on embedding shards. */
    public boolean isSparse() {
        return sparse != null;
    }

    public static Builder builder(String bootstrapServers) {
        return new Builder(bootstrapServers);
    }

    public Builder toBuilder() {
        return new Builder(bootstrapServers).topics(topics).modelId(modelId).spec(spec).seed(seed).shardSize(shardSize)
                .optimizer(optimizer).engine(engine).workers(workers()).parameterServers(parameterServers())
                .batchSize(batchSize()).nPush(nPush()).nFetch(nFetch()).mode(mode()).stalenessBound(stalenessBound())
                .clipNorm(clipNorm)
                .compression(compression)
                .warmstartExamples(warmstartExamples)
                .dealing(dealing)
                .averageDecay(averageDecay)
                .publishInterval(publishInterval()).servingPublishInterval(intervals.servingPublish())
                .checkpointInterval(checkpointInterval())
                .metricsInterval(metricsInterval()).idleFlush(idleFlush()).maxExampleBytes(maxExampleBytes)
                .failureInjection(failureInjection).sparse(sparse).federation(federation);
    }

    /** Defaults in one place. */
    public static final class Builder {
        private final String bootstrapServers;
        private TopicNames topics = TopicNames.DEFAULTS;
        private String modelId = DEFAULT_MODEL_ID;
        private ModelSpec spec;
        private long seed = DEFAULT_SEED;
        private int shardSize = ParameterLayout.DEFAULT_SHARD_SIZE;
        private Optimizer optimizer = Optimizer.parse(Optimizer.DEFAULT);
        private EngineChoice engine = EngineChoice.parse(DEFAULT_ENGINE);
        private int workers = Parallelism.DEFAULT_WORKERS;
        private int parameterServers = Parallelism.ONE_PER_WORKER;
        private int batchSize = MiniBatches.DEFAULT_BATCH_SIZE;
        private int nPush = MiniBatches.DEFAULT_N_PUSH;
        private int nFetch = MiniBatches.DEFAULT_N_FETCH;
        private TrainingMode mode = TrainingMode.parse(Synchronization.DEFAULT_MODE);
        private int stalenessBound = Synchronization.DEFAULT_STALENESS_BOUND;
        /** Null: the optimizer's default ({@link #DEFAULT_CLIP_NORM} for those that do not bound each step, else off). */
        private Double clipNorm;
        private GradientCompression compression;
        /** Null: the mode's default, {@value #DEFAULT_WARMSTART_EXAMPLES} for async training and 0 otherwise. */
        private Long warmstartExamples;
        private Dealing dealing = Dealing.parse(DEFAULT_DEALING);
        private double averageDecay = DEFAULT_AVERAGE_DECAY;
        private Duration publishInterval = Intervals.DEFAULTS.publish();
        private Duration servingPublishInterval = Intervals.DEFAULTS.servingPublish();
        private Duration checkpointInterval = Intervals.DEFAULTS.checkpoint();
        private Duration metricsInterval = Intervals.DEFAULTS.metrics();
        private Duration idleFlush = Intervals.DEFAULTS.idleFlush();
        private int maxExampleBytes = DEFAULT_MAX_EXAMPLE_BYTES;
        private FailureInjection failureInjection = FailureInjection.NONE;
        private SparseTraining sparse;
        private Federation federation = Federation.DEFAULTS;

        private Builder(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
        }

        /** Topic names (default {@link TopicNames#DEFAULTS}). */
        public Builder topics(TopicNames topics) {
            this.topics = topics;
            return this;
        }

        /** Model name: the Kafka key prefix and the serving URL's name (default {@value #DEFAULT_MODEL_ID}). */
        public Builder modelId(String modelId) {
            this.modelId = modelId;
            return this;
        }

        /** The model (default {@value ModelSpec#DEFAULT} with the seed of {@link #seed}). */
        public Builder spec(ModelSpec spec) {
            this.spec = spec;
            return this;
        }

        /** Seed of the default model's initialization (default {@value #DEFAULT_SEED}). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Floats per parameter shard (default {@value ParameterLayout#DEFAULT_SHARD_SIZE}). */
        public Builder shardSize(int shardSize) {
            this.shardSize = shardSize;
            return this;
        }

        /** The parameter servers' optimizer (default {@value Optimizer#DEFAULT}). */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /**
         * The workers' gradient engine (default {@value #DEFAULT_ENGINE}: DL4J; the CUDA engine has
         * not yet run in this project's CI, which has no GPU).
         */
        public Builder engine(EngineChoice engine) {
            this.engine = engine;
            return this;
        }

        /** Worker replicas W (default {@value Parallelism#DEFAULT_WORKERS}). */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** Parameter-server subtasks (default: as many as workers, at most one per shard). */
        public Builder parameterServers(int parameterServers) {
            this.parameterServers = parameterServers;
            return this;
        }

        /** Examples per mini-batch of each worker (default {@value MiniBatches#DEFAULT_BATCH_SIZE}). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Mini-batches whose gradients a worker sums before pushing them (Downpour's n_push, default {@value MiniBatches#DEFAULT_N_PUSH}). */
        public Builder nPush(int nPush) {
            this.nPush = nPush;
            return this;
        }

        /** A worker takes in received parameters at most every nFetch mini-batches (Downpour's n_fetch, default {@value MiniBatches#DEFAULT_N_FETCH}). */
        public Builder nFetch(int nFetch) {
            this.nFetch = nFetch;
            return this;
        }

        /** How workers and parameter servers synchronize (default {@value Synchronization#DEFAULT_MODE}). */
        public Builder mode(TrainingMode mode) {
            this.mode = mode;
            return this;
        }

        /** SSP's bound s: how many pushes a worker may run ahead of the slowest one it has heard from (default {@value Synchronization#DEFAULT_STALENESS_BOUND}). */
        public Builder stalenessBound(int bound) {
            this.stalenessBound = bound;
            return this;
        }

        /**
         * Each mini-batch's gradient is scaled down to this L2 norm, over all parameters, when it is
         * longer; 0: no clipping. Default (null): {@link #DEFAULT_CLIP_NORM} with an optimizer whose
         * steps grow with the gradient (SGD, momentum), so that no one example can ruin the model;
         * off with Adagrad and Adam, which bound each step themselves, and for sparse models.
         */
        public Builder clipNorm(Double clipNorm) {
            this.clipNorm = clipNorm;
            return this;
        }

        /**
         * What a worker sends of each push (default: top 1% of each shard's entries, bfloat16,
         * with error feedback; whole gradients for sparse models and in BSP mode, which refuse
         * compression; {@link GradientCompression#NONE} sends every gradient whole).
         */
        public Builder compression(GradientCompression compression) {
            this.compression = compression;
            return this;
        }

        /**
         * Examples trained by worker 0 alone before the others join (DistBelief's warmstart;
         * default {@value #DEFAULT_WARMSTART_EXAMPLES} when async and dealt round-robin, else 0).
         */
        public Builder warmstartExamples(Long examples) {
            this.warmstartExamples = examples;
            return this;
        }

        /** How the examples reach the workers (default {@value #DEFAULT_DEALING}). */
        public Builder dealing(Dealing dealing) {
            this.dealing = dealing;
            return this;
        }

        /**
         * Per-step decay of the moving average of the parameters that serving answers with
         * (default {@value #DEFAULT_AVERAGE_DECAY}: roughly the last hundred steps); 0 keeps no average.
         */
        public Builder averageDecay(double decay) {
            this.averageDecay = decay;
            return this;
        }

        /** How often at most a shard publishes its values (default {@value Intervals#DEFAULT_PUBLISH}). */
        public Builder publishInterval(Duration interval) {
            this.publishInterval = interval;
            return this;
        }

        /**
         * Async modes: how often at most a shard's whole values go to model-params for serving and
         * restores (default {@value Intervals#DEFAULT_SERVING_PUBLISH}); see {@link Intervals#servingPublish}.
         */
        public Builder servingPublishInterval(Duration interval) {
            this.servingPublishInterval = interval;
            return this;
        }

        /** Checkpoint interval (default {@value Intervals#DEFAULT_CHECKPOINT}). */
        public Builder checkpointInterval(Duration interval) {
            this.checkpointInterval = interval;
            return this;
        }

        /** Interval of the progressive-validation reports (default {@value Intervals#DEFAULT_METRICS}). */
        public Builder metricsInterval(Duration interval) {
            this.metricsInterval = interval;
            return this;
        }

        /** A partial mini-batch is trained once no example arrived for this long (default {@value Intervals#DEFAULT_IDLE_FLUSH}). */
        public Builder idleFlush(Duration idleFlush) {
            this.idleFlush = idleFlush;
            return this;
        }

        /** Deliberate failures, for tests of fault tolerance (default none). */
        public Builder failureInjection(FailureInjection failureInjection) {
            this.failureInjection = failureInjection;
            return this;
        }

        /** Larger example records go to the dead-letter topic (default 1 MiB, {@value #DEFAULT_MAX_EXAMPLE_BYTES} bytes). */
        public Builder maxExampleBytes(int maxExampleBytes) {
            this.maxExampleBytes = maxExampleBytes;
            return this;
        }

        /**
         * Makes this a sparse (wide &amp; deep) model: the dense spec becomes the deep part's MLP
         * (default none: a dense model).
         */
        public Builder sparse(SparseTraining sparse) {
            this.sparse = sparse;
            return this;
        }

        /** How client updates are aggregated in the federated modes (default {@link Federation#DEFAULTS}). */
        public Builder federation(Federation federation) {
            this.federation = federation;
            return this;
        }

        public TrainingConfig build() {
            ModelSpec model = sparse != null ? sparse.denseSpec(seed) : spec != null ? spec : ModelSpec.parse(ModelSpec.DEFAULT, seed);
            int servers = parameterServers > Parallelism.ONE_PER_WORKER ? parameterServers
                    : Math.min(workers, ParameterLayout.of(model, shardSize).shardCount());
            return new TrainingConfig(bootstrapServers, topics, modelId, model, seed, shardSize, optimizer, engine,
                    new Parallelism(workers, servers),
                    new MiniBatches(batchSize, nPush, nFetch),
                    new Synchronization(mode, stalenessBound),
                    clipNorm != null ? clipNorm : sparse != null || optimizer.boundsEachStep() ? 0 : DEFAULT_CLIP_NORM,
                    compression != null ? compression
                            : sparse != null || mode == TrainingMode.BSP ? GradientCompression.NONE
                            : DEFAULT_COMPRESSION,
                    warmstartExamples != null ? warmstartExamples
                            : mode == TrainingMode.ASYNC && sparse == null && dealing == Dealing.ROUND_ROBIN
                            ? DEFAULT_WARMSTART_EXAMPLES : 0,
                    dealing, averageDecay,
                    new Intervals(publishInterval, servingPublishInterval, checkpointInterval, metricsInterval,
                            idleFlush),
                    maxExampleBytes, failureInjection, sparse, federation);
        }
    }
}
