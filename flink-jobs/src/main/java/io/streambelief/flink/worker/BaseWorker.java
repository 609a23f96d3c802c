package io.streambelief.flink.worker;

import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.FailureInjection;
import io.streambelief.flink.TrainingConfig;
import io.streambelief.flink.TrainingMode;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.Example;
import io.streambelief.model.ModelReplica;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.engine.EngineChoice;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.engine.cuda.CudaRuntime;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ExampleCodec;
import io.streambelief.model.record.ReplicaState;
import io.streambelief.model.record.ReplicaStateCodec;

/**
 * What every worker does, whichever way parameter updates reach it. For each mini-batch the
 * worker first evaluates its current parameters (progressive validation), then computes their
 * gradient; it sums gradients over {@code nPush} mini-batches and pushes them, cut into one
 * {@link GradientSlice} per shard, to the parameter servers. Its parameters are a
 * {@link ModelReplica}: the latest state received from the parameter servers (taken in at most
 * every {@code nFetch} mini-batches) plus its own pushes they have not applied yet, so it never
 * computes on parameters that lack its own gradients. In SSP and BSP modes a full mini-batch
 * waits ({@link #awaitBound}) until the parameters are recent enough.
 *
 * <p>Exactly-once: every example before a checkpoint barrier is either in the parameter servers'
 * checkpoint (its gradient was pushed ahead of the barrier: what the worker has accumulated for
 * its next push is pushed before the barrier passes) or in the worker's own checkpoint (the
 * partial mini-batch it holds). Keeping the partial batch instead of training it keeps every
 * step a full mini-batch, whatever the checkpoint interval.
 *
 * <p>A custom operator rather than a function because it needs processing-time callbacks outside
 * a keyed context (to train a partial batch when the stream goes quiet) and the pre-barrier hook.
 */
public abstract class BaseWorker extends AbstractStreamOperator<GradientSlice> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BaseWorker.class);

    /** Progressive-validation reports, one per worker and metrics interval. */
    public static final OutputTag<TrainingMetrics> METRICS =
            new OutputTag<>("training-metrics", TypeInformation.of(TrainingMetrics.class));

    private static final long TICK_MILLIS = 100;

    protected final TrainingConfig config;

    private transient ParameterLayout layout;
    private transient int index;
    private transient ListState<byte[]> replicaState;
    private transient ListState<byte[]> partialBatchState;
    private transient List<Example> restoredPartialBatch;
    private transient ModelReplica replica;
    private transient GradientEngine engine;
    /** Where the engine writes each mini-batch's gradient; read at once, so one array serves all. */
    private transient float[] gradientBuffer;
    private transient EngineChoice.Decision engineDecision;
    /** Whether the engine's parameters lag behind the replica's. */
    private transient boolean engineStale;
    private transient MiniBatch.Builder batch;
    /** Mini-batches trained since the replica last took in received parameters. */
    private transient int batchesSinceFetch;
    private transient float[] pushSum;
    private transient long[] pushBaseVersions;
    private transient int batchesInPush;
    private transient int examplesInPush;
    private transient long lastExampleMillis;
    private transient long lastReportMillis;
    private transient ProgressiveValidation validation;
    private transient Counter examplesCounter;
    private transient Counter droppedCounter;
    private transient Counter pushesCounter;
    private transient Counter updatesCounter;
    /** Milliseconds from a parameter server publishing values to this worker receiving them. */
    private transient Histogram parameterLag;
    private transient long batchesBeforeFailure;

    protected BaseWorker(TrainingConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        layout = config.layout();
        index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        replicaState = replicaState(context);
        // Bytes for the same reason as the replica's (ReplicaStateCodec).
        partialBatchState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("partial-batch", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        restoredPartialBatch = new java.util.ArrayList<>();
        partialBatchState.get().forEach(bytes -> restoredPartialBatch.add(ExampleCodec.decode(bytes)));
        replica = restoreReplica(replicaState.get(), config, index);
    }

    /**
     * Every worker's checkpointed replica. Union state: after a restore (even at another
     * parallelism) each worker sees every checkpointed replica, continues from the freshest, and
     * numbers its pushes after all of them. Encoded with {@link ReplicaStateCodec}, which says why.
     */
    public static ListState<byte[]> replicaState(StateInitializationContext context) throws Exception {
        return context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("replica", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    /** What {@link #replicaState} keeps for {@code replica}. */
    public static List<byte[]> checkpointed(ModelReplica replica) {
        return List.of(ReplicaStateCodec.encode(replica.toState()));
    }

    /**
     * Worker {@code index}'s replica after a restore: the freshest checkpointed replica of this
     * model's shape, numbering pushes after every worker's last one; the initial parameters when
     * there is none. Takes union state, so it works at any new parallelism.
     */
    public static ModelReplica restoreReplica(Iterable<byte[]> checkpointed, TrainingConfig config, int index) {
        ParameterLayout layout = config.layout();
        ReplicaState freshest = null;
        long lastPush = 0;
        for (byte[] encoded : checkpointed) {
            ReplicaState state = ReplicaStateCodec.decode(encoded);
            lastPush = Math.max(lastPush, state.lastPush());
            if (state.values().length == layout.numParams()
                    && (freshest == null || state.totalVersion() > freshest.totalVersion())) {
                freshest = state;
            }
        }
        return freshest != null
                ? ModelReplica.restore(freshest, layout, config.optimizer(), index, lastPush)
                : ModelReplica.initial(config.spec().initialParameters(), layout, config.optimizer(), index);
    }

    @Override
    public void open() throws Exception {
        super.open();
        engineDecision = chooseEngine();
        try {
            engine = engineDecision.newEngine(config.spec());
        } catch (RuntimeException | LinkageError e) {
            if (!engineDecision.cuda() || config.engine() != EngineChoice.AUTO) {
                throw e;
            }
            engineDecision = engineDecision.fallBack(e);
            engine = engineDecision.newEngine(config.spec());
        }
        LOG.info("Worker {} computes gradients with {}", index, engineDecision.description());
        engine.setParameters(replica.values());
        batchesSinceFetch = config.nFetch();
        batch = MiniBatch.builder(config.batchSize(), config.spec().numInputs());
        pushSum = new float[layout.numParams()];
        gradientBuffer = new float[layout.numParams()];
        pushBaseVersions = new long[layout.shardCount()];
        long now = getProcessingTimeService().getCurrentProcessingTime();
        lastExampleMillis = now;
        lastReportMillis = now;
        validation = new ProgressiveValidation(now);

        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        examplesCounter = metrics.counter("examplesTrained");
        droppedCounter = metrics.counter("examplesDroppedNonFinite");
        pushesCounter = metrics.counter("gradientPushes");
        updatesCounter = metrics.counter("parameterUpdatesReceived");
        parameterLag = metrics.histogram("parameterLagMs", new DescriptiveStatisticsHistogram(10_000));
        metrics.gauge("progressiveLoss", validation::lastLoss);
        metrics.gauge("progressiveAccuracy", validation::lastAccuracy);
        metrics.gauge("gpu", () -> engineDecision.device().orElse(-1));

        batchesBeforeFailure = config.failureInjection().eventsBeforeFailure(
                getRuntimeContext().getTaskInfo().getAttemptNumber(), FailureInjection.Operator.WORKER, index);
        getProcessingTimeService().scheduleWithFixedDelay(this::onTick, TICK_MILLIS, TICK_MILLIS);
        for (Example example : restoredPartialBatch) {
            add(example);
        }
        restoredPartialBatch = null;
    }

    /**
     * The GPU this worker is bound to — one of those Flink's external-resource framework gave the
     * TaskManager, else (for CUDA, in a MiniCluster) one of the devices CUDA sees — and the engine
     * that computes on it. CUDA is only probed when the engine option may use it.
     */
    private EngineChoice.Decision chooseEngine() {
        CudaRuntime.Availability cuda = config.engine() == EngineChoice.CPU ? CudaRuntime.NOT_PROBED
                : CudaRuntime.probe();
        List<Integer> devices = GpuAssignment.indexes(
                getRuntimeContext().getExternalResourceInfos(GpuAssignment.RESOURCE));
        if (devices.isEmpty() && cuda.usable()) {
            devices = IntStream.range(0, cuda.devices()).boxed().toList();
        }
        OptionalInt device = GpuAssignment.acquire(devices);
        try {
            return config.engine().decide(config.spec(), device, cuda);
        } catch (RuntimeException e) {
            GpuAssignment.release(device);
            throw e;
        }
    }

    /** Takes in one example; trains the mini-batch it completes, once the mode's bound allows. */
    protected final void onExample(Example example) throws Exception {
        lastExampleMillis = getProcessingTimeService().getCurrentProcessingTime();
        add(example);
    }

    private void add(Example example) throws Exception {
        batch.add(example);
        if (batch.isFull()) {
            awaitBound();
            if (batch.isFull()) {
                // (While waiting, a tick may have trained it.)
                trainBatch();
            }
        }
    }

    /** Returns once the next mini-batch may be computed; async workers never wait. */
    protected void awaitBound() throws Exception {}

    /** Takes in one shard of parameters as the parameter servers published it. */
    protected final void onParameters(ParamUpdate update) {
        // Another model's, or an earlier model's of this name but another shape: not ours to apply.
        if (update.modelId().equals(config.modelId()) && replica.receive(update)) {
            updatesCounter.inc();
            parameterLag.update(Math.max(0, System.currentTimeMillis() - update.timestampMillis()));
        }
    }

    /**
     * Whether the next mini-batch may be computed now. Async: always. SSP: when the parameters
     * hold every other worker's pushes up to {@code s} before the one this batch goes into. BSP:
     * when they hold the servers' result of this worker's previous step (which they apply only
     * once every worker's gradient for it arrived). Takes in received parameters if that is what
     * it takes, whatever nFetch says.
     */
    protected final boolean mayTrain() {
        if (config.mode() == TrainingMode.ASYNC || withinBound()) {
            return true;
        }
        if (replica.hasUnmerged()) {
            replica.merge();
            engineStale = true;
            batchesSinceFetch = 0;
        }
        return withinBound();
    }

    private boolean withinBound() {
        long next = replica.lastPush() + 1;
        return config.mode() == TrainingMode.BSP
                ? replica.acknowledgedPush() >= next - 1
                : next - replica.slowestPeerPush(config.workers()) <= config.stalenessBound() + 1;
    }

    private void trainBatch() {
        if (replica.hasUnmerged() && batchesSinceFetch >= config.nFetch()) {
            replica.merge();
            engineStale = true;
            batchesSinceFetch = 0;
        }
        if (engineStale) {
            engine.setParameters(replica.values());
            engineStale = false;
        }
        if (--batchesBeforeFailure < 0) {
            throw FailureInjection.failure("worker " + index, getRuntimeContext().getTaskInfo().getAttemptNumber(),
                    examplesCounter.getCount() + " examples");
        }
        MiniBatch examples = batch.build();
        GradientStep step = engine.step(examples, gradientBuffer);
        batchesSinceFetch++;
        validation.add(step);
        examplesCounter.inc(examples.size());
        if (!isFinite(step.gradient())) {
            droppedCounter.inc(examples.size());
            return;
        }
        if (batchesInPush == 0) {
            System.arraycopy(replica.versions(), 0, pushBaseVersions, 0, pushBaseVersions.length);
        }
        float[] gradient = step.gradient();
        float scale = clippingScale(gradient, config.clipNorm());
        for (int i = 0; i < gradient.length; i++) {
            pushSum[i] += scale * gradient[i];
        }
        batchesInPush++;
        examplesInPush += examples.size();
        if (batchesInPush >= config.nPush()) {
            push();
        }
    }

    private void push() {
        float[] gradient = pushSum;
        pushSum = new float[layout.numParams()];
        long sequence = replica.push(gradient);
        engineStale = true;
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            output.collect(new StreamRecord<>(new GradientSlice(shard, index, sequence, pushBaseVersions[shard],
                    examplesInPush, layout.slice(gradient, shard))));
        }
        batchesInPush = 0;
        examplesInPush = 0;
        pushesCounter.inc();
    }
    /** Trains the partial batch (when the bound allows) and pushes what is accumulated, so nothing seen stays behind. */
    protected final void flush() {
        if (!batch.isEmpty() && mayTrain()) {
            trainBatch();
        }
        if (batchesInPush > 0) {
            push();
        }
    }

    private void onTick(long now) {
        if (now - lastExampleMillis >= config.idleFlush().toMillis()) {
            flush();
        }
        if (now - lastReportMillis >= config.metricsInterval().toMillis()) {
            if (validation.hasWindow()) {
                output.collect(METRICS, new StreamRecord<>(validation.report(config.modelId(),
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), System.currentTimeMillis())
                        .withEngine(engineDecision.engineName(), engineDecision.device().isPresent()
                                ? engineDecision.device().getAsInt() : null)));
            }
            lastReportMillis = now;
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        if (batchesInPush > 0) {
            push();
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        replicaState.update(checkpointed(replica));
        partialBatchState.update(batch.examples().stream().map(ExampleCodec::encode).toList());
    }

    @Override
    public void close() throws Exception {
        if (parameterLag != null && parameterLag.getCount() > 0) {
            var lag = parameterLag.getStatistics();
            LOG.info("Worker {}: {} examples trained, {} parameter updates received, {} ms after publication "
                    + "(mean; p50 {}, p99 {})", getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                    examplesCounter.getCount(), updatesCounter.getCount(), String.format("%.1f", lag.getMean()),
                    lag.getQuantile(0.5), lag.getQuantile(0.99));
        }
        if (engineDecision != null) {
            GpuAssignment.release(engineDecision.device());
        }
        if (engine != null) {
            engine.close();
        }
        super.close();
    }

    /** The factor that brings {@code gradient} down to L2 norm {@code clipNorm} (1 if it is shorter, or for 0: off). */
    @VisibleForTesting
    static float clippingScale(float[] gradient, double clipNorm) {
        if (clipNorm <= 0) {
            return 1f;
        }
        double squares = 0;
        for (float g : gradient) {
            squares += (double) g * g;
        }
        double norm = Math.sqrt(squares);
        return norm > clipNorm ? (float) (clipNorm / norm) : 1f;
    }

    /** Whether every value is a finite number: what may reach the parameter state. */
    public static boolean isFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
