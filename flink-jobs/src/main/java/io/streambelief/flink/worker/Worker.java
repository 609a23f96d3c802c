package io.streambelief.flink.worker;

import java.util.Arrays;
import java.util.List;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import io.streambelief.flink.TrainingConfig;
import io.streambelief.kafka.metrics.TrainingMetrics;
import io.streambelief.model.Example;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;

/**
 * A Downpour SGD model replica. Input 1 carries examples, input 2 every parameter update of the
 * model (broadcast to all workers). For each mini-batch the worker first evaluates its current
 * parameters (progressive validation), then computes their gradient; it sums gradients over
 * {@code nPush} mini-batches and pushes them, cut into one {@link GradientSlice} per shard, to the
 * parameter servers. It never applies its own gradients: its parameters change only by taking in
 * the latest received values, at most every {@code nFetch} mini-batches.
 *
 * <p>Exactly-once: before a checkpoint barrier passes, the worker trains whatever partial batch
 * it holds and pushes whatever it accumulated, so every example before the barrier has its
 * gradient ahead of the barrier, and the parameter servers' checkpoint contains it. The replica of
 * received parameters is checkpointed with the parameter source's offsets (a consistent pair).
 *
 * <p>A custom operator rather than a function because it needs processing-time callbacks outside
 * a keyed context (to train a partial batch when the stream goes quiet) and the pre-barrier hook.
 */
public final class Worker extends AbstractStreamOperator<GradientSlice>
        implements TwoInputStreamOperator<Example, ParamUpdate, GradientSlice>, BoundedMultiInput {
    private static final long serialVersionUID = 1L;

    /** Progressive-validation reports, one per worker and metrics interval. */
    public static final OutputTag<TrainingMetrics> METRICS =
            new OutputTag<>("training-metrics", TypeInformation.of(TrainingMetrics.class));

    private static final long TICK_MILLIS = 100;

    private final TrainingConfig config;

    private transient ParameterLayout layout;
    private transient GradientEngine engine;
    private transient MiniBatch.Builder batch;
    private transient ListState<WorkerReplica> replicaState;
    /** Latest values received for every shard, and their versions. */
    private transient float[] received;
    private transient long[] receivedVersions;
    private transient boolean receivedChanged;
    /** Versions of the parameters the engine holds now. */
    private transient long[] activeVersions;
    /** Mini-batches trained since the engine last took in received parameters. */
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

    public Worker(TrainingConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        layout = config.layout();
        // Union state: after a restore (even at another parallelism) each worker sees every
        // checkpointed replica and continues from the freshest one.
        replicaState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("replica", TypeInformation.of(WorkerReplica.class)));
        WorkerReplica freshest = null;
        for (WorkerReplica replica : replicaState.get()) {
            if (replica.values().length == layout.numParams()
                    && (freshest == null || replica.totalVersion() > freshest.totalVersion())) {
                freshest = replica;
            }
        }
        if (freshest != null) {
            received = freshest.values();
            receivedVersions = freshest.versions();
        } else {
            received = config.spec().initialParameters();
            receivedVersions = new long[layout.shardCount()];
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        engine = new Dl4jGradientEngine(config.spec());
        engine.setParameters(received);
        activeVersions = receivedVersions.clone();
        batchesSinceFetch = config.nFetch();
        batch = MiniBatch.builder(config.batchSize(), config.spec().numInputs());
        pushSum = new float[layout.numParams()];
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
        metrics.gauge("progressiveLoss", validation::lastLoss);
        metrics.gauge("progressiveAccuracy", validation::lastAccuracy);

        getProcessingTimeService().scheduleWithFixedDelay(this::onTick, TICK_MILLIS, TICK_MILLIS);
    }

    @Override
    public void processElement1(StreamRecord<Example> element) {
        lastExampleMillis = getProcessingTimeService().getCurrentProcessingTime();
        batch.add(element.getValue());
        if (batch.isFull()) {
            trainBatch();
        }
    }

    @Override
    public void processElement2(StreamRecord<ParamUpdate> element) {
        ParamUpdate update = element.getValue();
        int shard = update.shardId();
        if (!update.modelId().equals(config.modelId()) || shard < 0 || shard >= layout.shardCount()
                || update.values().length != layout.length(shard)) {
            // Another model's, or an earlier model's of this name but another shape: not ours to apply.
            return;
        }
        layout.place(received, shard, update.values());
        receivedVersions[shard] = update.version();
        receivedChanged = true;
        updatesCounter.inc();
    }

    private void trainBatch() {
        if (receivedChanged && batchesSinceFetch >= config.nFetch()) {
            engine.setParameters(received);
            System.arraycopy(receivedVersions, 0, activeVersions, 0, activeVersions.length);
            receivedChanged = false;
            batchesSinceFetch = 0;
        }
        MiniBatch examples = batch.build();
        GradientStep step = engine.step(examples);
        batchesSinceFetch++;
        validation.add(step);
        examplesCounter.inc(examples.size());
        if (!isFinite(step.gradient())) {
            droppedCounter.inc(examples.size());
            return;
        }
        if (batchesInPush == 0) {
            System.arraycopy(activeVersions, 0, pushBaseVersions, 0, activeVersions.length);
        }
        float[] gradient = step.gradient();
        for (int i = 0; i < gradient.length; i++) {
            pushSum[i] += gradient[i];
        }
        batchesInPush++;
        examplesInPush += examples.size();
        if (batchesInPush >= config.nPush()) {
            push();
        }
    }

    private void push() {
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            output.collect(new StreamRecord<>(new GradientSlice(shard, pushBaseVersions[shard], examplesInPush,
                    layout.slice(pushSum, shard))));
        }
        Arrays.fill(pushSum, 0f);
        batchesInPush = 0;
        examplesInPush = 0;
        pushesCounter.inc();
    }

    /** Trains the partial batch and pushes what is accumulated, so nothing seen stays behind. */
    private void flush() {
        if (!batch.isEmpty()) {
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
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), System.currentTimeMillis())));
            }
            lastReportMillis = now;
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        replicaState.update(List.of(new WorkerReplica(received.clone(), receivedVersions.clone())));
    }

    @Override
    public void endInput(int inputId) {
        if (inputId == 1) {
            flush();
        }
    }

    @Override
    public void close() throws Exception {
        if (engine != null) {
            engine.close();
        }
        super.close();
    }

    @VisibleForTesting
    static boolean isFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
