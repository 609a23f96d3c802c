package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.flink.io.RowReply;
import io.streambelief.flink.worker.ProgressiveValidation;
import io.streambelief.flink.worker.RestoredReplicas;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.RowGradient;
import io.streambelief.model.sparse.AucHistogram;
import io.streambelief.model.sparse.SparseExample;
import io.streambelief.model.sparse.WideDeepEngine;
import io.streambelief.model.trainer.Trainer;

/**
 * A worker of the hybrid model. Input 1 are looked-up rows: it assembles each example from the
 * replies of its slots (slot 0's reply carries the example), and trains full mini-batches of them
 * with the {@link WideDeepEngine}. Input 2 are the dense parameters (model-params, broadcast).
 * The dense part is a dense worker's: a {@link Trainer} keeps the parameters in a
 * {@link ModelReplica}, takes in received ones before a batch, and pushes, counts and measures the
 * gradient; this operator runs the engine step between {@link Trainer#beginStep} and
 * {@link Trainer#completeStep}, as the wide &amp; deep engine takes rows as well as examples.
 *
 * <p>Per mini-batch, after progressive validation (loss, accuracy, AUC): the dense gradient goes
 * to the parameter servers as one {@link GradientSlice} per shard (forward in the graph, as for a
 * dense model), and one {@link RowGradient} per distinct id of the batch — summed over the
 * examples that touched it — to the {@link #ROW_GRADIENTS} side output, which the job writes to
 * {@code embedding-gradients} in the checkpoint's Kafka transaction. Only touched rows move.
 *
 * <p>Exactly-once: replies not yet trained (examples still being assembled, and the partial
 * batch) are part of the worker's checkpoint; everything trained before a barrier was pushed
 * before it. Sparse models fetch before and push after every batch (nFetch and nPush 1), whole
 * gradients (no compression, so no residual to checkpoint).
 */
public final class SparseWorker extends AbstractStreamOperator<GradientSlice>
        implements TwoInputStreamOperator<RowReply, ParamUpdate, GradientSlice>, BoundedMultiInput {
    private static final long serialVersionUID = 1L;
    private static final long TICK_MILLIS = 100;

    public static final OutputTag<RowGradient> ROW_GRADIENTS =
            new OutputTag<>("row-gradients", RecordTypes.ROW_GRADIENT);

    private final TrainingConfig config;
    private final SparseTraining sparse;

    private transient int index;
    private transient ListState<byte[]> replicaState;
    private transient ListState<RowReply> heldState;
    private transient List<RowReply> restoredReplies;
    private transient ModelReplica replica;
    private transient Trainer trainer;
    private transient WideDeepEngine engine;
    /** Examples being assembled, by example id, in arrival order. */
    private transient Map<Long, RowReply[]> assembling;
    private transient List<RowReply[]> batch;
    private transient int slots;
    private transient int width;
    private transient long lastExampleMillis;
    private transient long lastReportMillis;
    private transient ProgressiveValidation validation;
    private transient AucHistogram auc;
    private transient Counter examplesCounter;
    private transient Counter droppedCounter;
    private transient Counter pushesCounter;
    private transient Counter updatesCounter;
    private transient Counter rowGradientsCounter;
    private transient long batchesBeforeFailure;

    public SparseWorker(TrainingConfig config) {
        this.config = config;
        this.sparse = config.sparse();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        replicaState = RestoredReplicas.state(context);
        heldState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("held-replies", RecordTypes.ROW_REPLY));
        restoredReplies = new ArrayList<>();
        heldState.get().forEach(restoredReplies::add);
        replica = RestoredReplicas.decode(replicaState.get()).replicaFor(config, index);
    }

    @Override
    public void open() throws Exception {
        super.open();
        slots = sparse.schema().slots();
        width = sparse.table().lookupWidth();
        engine = new WideDeepEngine(config.spec(), slots, sparse.table().dim(), sparse.schema().numerics());
        // No residuals: a sparse model pushes whole gradients (TrainingConfig refuses compression).
        trainer = new Trainer(config.trainerSettings(), config.layout(), index, replica, List.of(),
                slice -> output.collect(new StreamRecord<>(slice)));
        assembling = new LinkedHashMap<>();
        batch = new ArrayList<>(config.batchSize());
        long now = getProcessingTimeService().getCurrentProcessingTime();
        lastExampleMillis = now;
        lastReportMillis = now;
        validation = new ProgressiveValidation(now);
        auc = new AucHistogram();
        var metrics = getRuntimeContext().getMetricGroup();
        examplesCounter = metrics.counter("examplesTrained");
        droppedCounter = metrics.counter("examplesDroppedNonFinite");
        pushesCounter = metrics.counter("gradientPushes");
        updatesCounter = metrics.counter("parameterUpdatesReceived");
        rowGradientsCounter = metrics.counter("rowGradientsSent");
        metrics.gauge("progressiveLoss", validation::lastLoss);
        metrics.gauge("progressiveAuc", auc::auc);
        metrics.gauge("bytesPushed", trainer::bytesPushed);
        metrics.gauge("bytesReceived", trainer::bytesReceived);
        batchesBeforeFailure = config.failureInjection().eventsBeforeFailure(
                getRuntimeContext().getTaskInfo().getAttemptNumber(), FailureInjection.Operator.WORKER, index);
        getProcessingTimeService().scheduleWithFixedDelay(this::onTick, TICK_MILLIS, TICK_MILLIS);
        for (RowReply reply : restoredReplies) {
            onReply(reply);
        }
        restoredReplies = null;
    }

    @Override
    public void processElement1(StreamRecord<RowReply> element) {
        lastExampleMillis = getProcessingTimeService().getCurrentProcessingTime();
        onReply(element.getValue());
    }

    @Override
    public void processElement2(StreamRecord<ParamUpdate> element) {
        ParamUpdate update = element.getValue();
        // Another model's, or an earlier model's of this name but another shape: not ours to apply.
        if (update.modelId().equals(config.modelId()) && trainer.receive(update)) {
            updatesCounter.inc();
        }
    }

    private void onReply(RowReply reply) {
        RowReply[] example = assembling.computeIfAbsent(reply.exampleId(), id -> new RowReply[slots]);
        example[reply.slot()] = reply;
        for (RowReply slot : example) {
            if (slot == null) {
                return;
            }
        }
        assembling.remove(reply.exampleId());
        batch.add(example);
        if (batch.size() >= config.batchSize()) {
            train();
        }
    }

    private void train() {
        if (batch.isEmpty()) {
            return;
        }
        if (--batchesBeforeFailure < 0) {
            throw FailureInjection.failure("sparse worker " + index, getRuntimeContext().getTaskInfo().getAttemptNumber(),
                    examplesCounter.getCount() + " examples");
        }
        trainer.beginStep(engine::setParameters);
        int size = batch.size();
        int numerics = sparse.schema().numerics();
        float[] lookups = new float[size * slots * width];
        float[] numericInputs = new float[size * numerics];
        int[] labels = new int[size];
        ExampleDigest[] digests = new ExampleDigest[size];
        ExampleDigest batchDigest = ExampleDigest.EMPTY;
        for (int i = 0; i < size; i++) {
            RowReply[] example = batch.get(i);
            SparseExample values = example[0].example();
            labels[i] = values.label();
            digests[i] = ExampleDigest.of(values);
            batchDigest = batchDigest.plus(digests[i]);
            System.arraycopy(values.numerics(), 0, numericInputs, i * numerics, numerics);
            for (int s = 0; s < slots; s++) {
                float[] lookup = example[s].lookup();
                if (lookup != null) {
                    System.arraycopy(lookup, 0, lookups, (i * slots + s) * width, width);
                }
            }
        }
        WideDeepEngine.Step step = engine.step(lookups, numericInputs, labels);
        int correct = 0;
        for (int i = 0; i < size; i++) {
            auc.add(step.predictions()[i], labels[i]);
            correct += (step.predictions()[i] >= 0.5f ? 1 : 0) == labels[i] ? 1 : 0;
        }
        validation.add(size, step.loss(), correct);
        List<RowReply[]> trained = batch;
        batch = new ArrayList<>(config.batchSize());
        // One step: rows and dense part go out together or not at all, so a row never holds an
        // example's gradient that the MLP lacks, or the other way round.
        if (!Trainer.isFinite(step.rowGradients())) {
            trainer.discardStep(size);
        } else if (trainer.completeStep(step.denseGradient(), batchDigest)) {
            pushRows(trained, digests, step.rowGradients());
        }
        countProgress();
    }

    private void countProgress() {
        examplesCounter.inc(trainer.examplesTrained() - examplesCounter.getCount());
        droppedCounter.inc(trainer.examplesDropped() - droppedCounter.getCount());
        pushesCounter.inc(trainer.pushes() - pushesCounter.getCount());
    }

    /** One gradient per distinct id of the batch, summed over the examples that touched it. */
    private void pushRows(List<RowReply[]> trained, ExampleDigest[] digests, float[] rowGradients) {
        Map<Long, RowSum> sums = new HashMap<>(2 * trained.size() * slots);
        for (int i = 0; i < trained.size(); i++) {
            for (int s = 0; s < slots; s++) {
                RowSum sum = sums.computeIfAbsent(trained.get(i)[s].id(), k -> new RowSum(width));
                int from = (i * slots + s) * width;
                for (int k = 0; k < width; k++) {
                    sum.values[k] += rowGradients[from + k];
                }
                sum.examples = sum.examples.plus(digests[i]);
            }
        }
        for (Map.Entry<Long, RowSum> entry : sums.entrySet()) {
            output.collect(ROW_GRADIENTS, new StreamRecord<>(
                    new RowGradient(entry.getKey(), entry.getValue().examples, entry.getValue().values)));
        }
        rowGradientsCounter.inc(sums.size());
    }

    /** One id's gradient being summed over a batch, and the examples in it. */
    private static final class RowSum {
        final float[] values;
        ExampleDigest examples = ExampleDigest.EMPTY;

        RowSum(int width) {
            values = new float[width];
        }
    }

    private void onTick(long now) {
        if (now - lastExampleMillis >= config.idleFlush().toMillis()) {
            train();
        }
        if (now - lastReportMillis >= config.metricsInterval().toMillis()) {
            if (validation.hasWindow()) {
                output.collect(ProgressiveValidation.METRICS, new StreamRecord<>(validation.report(config.modelId(), index,
                        System.currentTimeMillis()).withAuc(auc.auc())
                        .withTraffic(trainer.bytesPushed(), trainer.bytesReceived(), null)));
            }
            lastReportMillis = now;
        }
    }

    @Override
    public void endInput(int inputId) {
        if (inputId == 1) {
            train();
        }
    }

    /**
     * With nPush 1 nothing is held back between batches; pushing what is accumulated anyway keeps
     * the exactly-once argument from resting on that.
     */
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
        List<RowReply> held = new ArrayList<>();
        for (RowReply[] example : batch) {
            for (RowReply reply : example) {
                held.add(reply);
            }
        }
        for (RowReply[] example : assembling.values()) {
            for (RowReply reply : example) {
                if (reply != null) {
                    held.add(reply);
                }
            }
        }
        heldState.update(held);
    }

    @Override
    public void close() throws Exception {
        if (engine != null) {
            engine.close();
        }
        super.close();
    }
}
