package io.streambelief.flink.worker;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.model.Example;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.trainer.EngineChoice;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.cuda.CudaRuntime;
import io.streambelief.model.record.ExampleCodec;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ResidualCodec;
import io.streambelief.model.trainer.Trainer;

/**
 * What every worker does, whichever way parameter updates reach it: the Flink side of a
 * {@link Trainer}, which holds the worker's loop (mini-batches, n_fetch, n_push, clipping,
 * compression with error feedback, the SSP/BSP bound). For each mini-batch the worker first
 * evaluates its current parameters (progressive validation), then computes their gradient and
 * pushes, one {@link GradientSlice} per shard, to the parameter servers. Its parameters are a
 * {@link ModelReplica}: the latest state received from the parameter servers plus its own
 * pushes they have not applied yet. In SSP and BSP modes a full mini-batch waits
 * ({@link #awaitBound}) until the parameters are recent enough.
 *
 * <p>Exactly-once: every example before a checkpoint barrier is in the parameter servers'
 * checkpoint (its gradient was pushed ahead of the barrier: what the worker has accumulated for
 * its next push is pushed before the barrier passes), or in the error-feedback residual the
 * worker checkpoints (what compression held back), or in the partial mini-batch the worker
 * checkpoints. Keeping the partial batch instead of training it keeps every step a full
 * mini-batch, whatever the checkpoint interval.
 *
 * <p>A custom operator rather than a function because it needs processing-time callbacks outside
 * a keyed context (to train a partial batch when the stream goes quiet) and the pre-barrier hook.
 */
public abstract class BaseWorker extends AbstractStreamOperator<GradientSlice> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BaseWorker.class);

    private static final long TICK_MILLIS = 100;

    protected final TrainingConfig config;

    private transient int index;
    private transient ListState<byte[]> replicaState;
    private transient ListState<byte[]> partialBatchState;
    private transient ListState<byte[]> residualState;
    private transient List<Example> restoredPartialBatch;
    private transient List<float[]> restoredResiduals;
    private transient RestoredReplicas restored;
    private transient ModelReplica replica;
    private transient Trainer trainer;
    private transient GradientEngine engine;
    private transient EngineChoice.Decision engineDecision;
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
        index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        replicaState = RestoredReplicas.state(context);
        // Bytes for the same reason as the replica's (ReplicaStateCodec).
        partialBatchState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("partial-batch", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        restoredPartialBatch = new ArrayList<>();
        partialBatchState.get().forEach(bytes -> restoredPartialBatch.add(ExampleCodec.decode(bytes)));
        // Split state: after a rescale a worker takes over some of the residuals, and adds them.
        residualState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("residual", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        restoredResiduals = new ArrayList<>();
        residualState.get().forEach(bytes -> restoredResiduals.add(ResidualCodec.decode(bytes)));
        restored = RestoredReplicas.decode(replicaState.get());
        replica = restored.replicaFor(config, index);
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
        LOG.info("Worker {} computes gradients with {}; gradient compression: {}", index,
                engineDecision.description(), config.compression());
        // A residual of another model's shape (a restore after the model changed) cannot be sent.
        restoredResiduals.removeIf(residual -> residual.length != config.layout().numParams());
        trainer = new Trainer(config.trainerSettings(), config.layout(), index, config.spec().numInputs(), replica,
                engine, restoredResiduals, slice -> output.collect(new StreamRecord<>(slice)));
        restoredResiduals = null;
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
        metrics.gauge("bytesPushed", trainer::bytesPushed);
        metrics.gauge("bytesReceived", trainer::bytesReceived);
        metrics.gauge("residualNorm", () -> trainer.errorFeedback().residualNorm());

        batchesBeforeFailure = config.failureInjection().eventsBeforeFailure(
                getRuntimeContext().getTaskInfo().getAttemptNumber(), FailureInjection.Operator.WORKER, index);
        getProcessingTimeService().scheduleWithFixedDelay(this::onTick, TICK_MILLIS, TICK_MILLIS);
        LOG.info("Worker {} starts at push {} (acknowledged {}) with {} examples of a mini-batch", index,
                replica.lastPush(), replica.acknowledgedPush(), restoredPartialBatch.size());
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
        if (trainer.add(example)) {
            awaitBound();
            if (trainer.batchFull()) {
                // (While waiting, a tick may have trained it.)
                train();
            }
        }
    }

    /** Returns once the next mini-batch may be computed; async workers never wait. */
    protected void awaitBound() throws Exception {}

    /** The worker replicas this worker was restored from (none at a fresh start). */
    protected final RestoredReplicas restored() {
        return restored;
    }

    /** Takes in one shard of parameters as the parameter servers published it. */
    protected final void onParameters(ParamUpdate update) {
        receive(update.modelId(), update.timestampMillis(), () -> trainer.receive(update));
    }

    private void receive(String modelId, long timestampMillis, BooleanSupplier receive) {
        // Another model's, or an earlier model's of this name but another shape: not ours to apply.
        if (modelId.equals(config.modelId()) && receive.getAsBoolean()) {
            updatesCounter.inc();
            parameterLag.update(Math.max(0, System.currentTimeMillis() - timestampMillis));
        }
    }

    /** Takes in one shard's delta as the parameter servers sent it. */
    protected final void onParameters(ParamDelta delta) {
        receive(delta.modelId(), delta.timestampMillis(), () -> trainer.receive(delta));
    }

    /** Whether the next mini-batch may be computed now ({@link Trainer#mayTrain}). */
    protected final boolean mayTrain() {
        return trainer.mayTrain();
    }

    private void train() {
        if (--batchesBeforeFailure < 0) {
            throw FailureInjection.failure("worker " + index, getRuntimeContext().getTaskInfo().getAttemptNumber(),
                    examplesCounter.getCount() + " examples");
        }
        validation.add(trainer.trainBatch());
        countProgress();
    }

    /** Trains the partial batch (when the bound allows) and pushes everything held, so nothing seen stays behind. */
    protected final void flush() {
        GradientStep step = trainer.flush();
        if (step != null) {
            validation.add(step);
        }
        countProgress();
    }

    private void countProgress() {
        examplesCounter.inc(trainer.examplesTrained() - examplesCounter.getCount());
        droppedCounter.inc(trainer.examplesDropped() - droppedCounter.getCount());
        pushesCounter.inc(trainer.pushes() - pushesCounter.getCount());
    }

    private void onTick(long scheduled) {
        // The time a fixed-delay callback is given is when it was due, which falls ever further
        // behind the clock, and the idle flush with it.
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (now - lastExampleMillis >= config.idleFlush().toMillis()) {
            flush();
        }
        if (now - lastReportMillis >= config.metricsInterval().toMillis()) {
            if (validation.hasWindow()) {
                output.collect(ProgressiveValidation.METRICS, new StreamRecord<>(validation.report(config.modelId(), index,
                        System.currentTimeMillis())
                        .withEngine(engineDecision.engineName(), engineDecision.device().isPresent()
                                ? engineDecision.device().getAsInt() : null)
                        .withTraffic(trainer.bytesPushed(), trainer.bytesReceived(),
                                config.compression().isLossy() ? trainer.errorFeedback().residualNorm() : null)));
            }
            lastReportMillis = now;
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        trainer.pushAccumulated();
        countProgress();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        replicaState.update(RestoredReplicas.checkpointed(replica, config.mode()));
        partialBatchState.update(trainer.partialBatch().stream().map(ExampleCodec::encode).toList());
        residualState.update(config.compression().isLossy()
                ? List.of(ResidualCodec.encode(trainer.errorFeedback().residual()))
                : List.of());
    }

    @Override
    public void close() throws Exception {
        if (parameterLag != null && parameterLag.getCount() > 0) {
            var lag = parameterLag.getStatistics();
            LOG.info("Worker {}: {} examples trained, {} parameter updates received, {} ms after publication "
                    + "(mean; p50 {}, p99 {}); {} bytes pushed, {} received", index,
                    examplesCounter.getCount(), updatesCounter.getCount(), String.format("%.1f", lag.getMean()),
                    lag.getQuantile(0.5), lag.getQuantile(0.99), trainer.bytesPushed(), trainer.bytesReceived());
        }
        if (engineDecision != null) {
            GpuAssignment.release(engineDecision.device());
        }
        if (engine != null) {
            engine.close();
        }
        super.close();
    }
}
