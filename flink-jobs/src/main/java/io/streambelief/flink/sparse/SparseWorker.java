package io.streambelief.flink.sparse;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.flink.io.RowLookupReply;
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
 * A worker of the hybrid model. Input 1 are looked-up rows: the replies of the embedding shards
 * to a mini-batch's lookups ({@link LookupBatcher}), one per shard the batch touches, the first
 * carrying the examples; once all of a batch's have come, it trains the batch with the
 * {@link WideDeepEngine}. Input 2 are the dense parameters (model-params, broadcast).
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
 * <p>Exactly-once: the replies of batches not yet complete are part of the worker's checkpoint;
 * everything trained before a barrier was pushed before it. Sparse models fetch before and push after every batch (nFetch and nPush 1), whole
 * gradients (no compression, so no residual to checkpoint).
 */
public final class SparseWorker extends AbstractStreamOperator<GradientSlice>
        implements TwoInputStreamOperator<RowLookupReply, ParamUpdate, GradientSlice> {
    private static final long serialVersionUID = 1L;
    private static final long TICK_MILLIS = 100;

    public static final OutputTag<RowGradient> ROW_GRADIENTS =
            new OutputTag<>("row-gradients", RecordTypes.ROW_GRADIENT);

    private final TrainingConfig config;
    private final SparseTraining sparse;

    private transient int index;
    private transient ListState<byte[]> replicaState;
    private transient ListState<RowLookupReply> heldState;
    private transient List<RowLookupReply> restoredReplies;
    private transient ModelReplica replica;
    private transient Trainer trainer;
    private transient WideDeepEngine engine;
    /** The replies of batches not yet complete, by batch id. */
    private transient Map<Long, List<RowLookupReply>> assembling;
    private transient int slots;
    private transient int width;
    private transient long lastReportMillis;
    private transient ProgressiveValidation validation;
    private transient AucHistogram auc;
    private transient Counter examplesCounter;
    private transient Counter droppedCounter;
    private transient Counter pushesCounter;
    private transient Counter updatesCounter;
    private transient Counter rowGradientsCounter;
    private transient long batchesBeforeFailure;
    private transient boolean checkpointed;

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
                new ListStateDescriptor<>("held-lookup-replies", RecordTypes.ROW_LOOKUP_REPLY));
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
        assembling = new HashMap<>();
        long now = getProcessingTimeService().getCurrentProcessingTime();
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
        for (RowLookupReply reply : restoredReplies) {
            onReply(reply);
        }
        restoredReplies = null;
    }

    @Override
    public void processElement1(StreamRecord<RowLookupReply> element) {
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

    private void onReply(RowLookupReply reply) {
        List<RowLookupReply> replies = assembling.computeIfAbsent(reply.batchId(), id -> new ArrayList<>(reply.parts()));
        replies.add(reply);
        if (replies.size() == reply.parts()) {
            assembling.remove(reply.batchId());
            train(replies);
        }
    }

    private void train(List<RowLookupReply> replies) {
        // Counted from this attempt's first completed checkpoint: the failure then restores from
        // one, with batches in flight and held, rather than starting the job over.
        if (checkpointed && --batchesBeforeFailure < 0) {
            throw FailureInjection.failure("sparse worker " + index, getRuntimeContext().getTaskInfo().getAttemptNumber(),
                    examplesCounter.getCount() + " examples");
        }
        Batch batch = Batch.of(replies, slots, width);
        trainer.beginStep(engine::setParameters);
        int size = batch.examples.length;
        int numerics = sparse.schema().numerics();
        float[] numericInputs = new float[size * numerics];
        int[] labels = new int[size];
        ExampleDigest[] digests = new ExampleDigest[size];
        ExampleDigest batchDigest = ExampleDigest.EMPTY;
        for (int i = 0; i < size; i++) {
            SparseExample example = batch.examples[i];
            labels[i] = example.label();
            digests[i] = ExampleDigest.of(example);
            batchDigest = batchDigest.plus(digests[i]);
            System.arraycopy(example.numerics(), 0, numericInputs, i * numerics, numerics);
        }
        WideDeepEngine.Step step = engine.step(batch.lookups, numericInputs, labels);
        int correct = 0;
        for (int i = 0; i < size; i++) {
            auc.add(step.predictions()[i], labels[i]);
            correct += (step.predictions()[i] >= 0.5f ? 1 : 0) == labels[i] ? 1 : 0;
        }
        validation.add(size, step.loss(), correct);
        // One step: rows and dense part go out together or not at all, so a row never holds an
        // example's gradient that the MLP lacks, or the other way round.
        if (!Trainer.isFinite(step.rowGradients())) {
            trainer.discardStep(size);
        } else if (trainer.completeStep(step.denseGradient(), batchDigest)) {
            pushRows(batch.examples, digests, step.rowGradients());
        }
        countProgress();
    }

    /** A complete batch: its examples (from the first reply) and each slot's looked-up row. */
    private record Batch(SparseExample[] examples, float[] lookups) {
        static Batch of(List<RowLookupReply> replies, int slots, int width) {
            SparseExample[] examples = null;
            // Where each id's row sits in the replies' lookups, laid end to end.
            Map<Long, Integer> offsetOf = new HashMap<>();
            int total = 0;
            for (RowLookupReply reply : replies) {
                if (reply.examples().length > 0) {
                    examples = reply.examples();
                }
                for (int i = 0; i < reply.ids().length; i++) {
                    offsetOf.put(reply.ids()[i], total + i * width);
                }
                total += reply.lookups().length;
            }
            float[] rows = new float[total];
            int at = 0;
            for (RowLookupReply reply : replies) {
                System.arraycopy(reply.lookups(), 0, rows, at, reply.lookups().length);
                at += reply.lookups().length;
            }
            if (examples == null) {
                throw new IllegalStateException("Batch " + replies.get(0).batchId() + " came without its examples");
            }
            float[] lookups = new float[examples.length * slots * width];
            for (int e = 0; e < examples.length; e++) {
                long[] ids = examples[e].ids();
                for (int s = 0; s < slots; s++) {
                    System.arraycopy(rows, offsetOf.get(ids[s]), lookups, (e * slots + s) * width, width);
                }
            }
            return new Batch(examples, lookups);
        }
    }

    private void countProgress() {
        examplesCounter.inc(trainer.examplesTrained() - examplesCounter.getCount());
        droppedCounter.inc(trainer.examplesDropped() - droppedCounter.getCount());
        pushesCounter.inc(trainer.pushes() - pushesCounter.getCount());
    }

    /** One gradient per distinct id of the batch, summed over the examples that touched it. */
    private void pushRows(SparseExample[] trained, ExampleDigest[] digests, float[] rowGradients) {
        Map<Long, RowSum> sums = new HashMap<>(2 * trained.length * slots);
        for (int i = 0; i < trained.length; i++) {
            for (int s = 0; s < slots; s++) {
                RowSum sum = sums.computeIfAbsent(trained[i].ids()[s], k -> new RowSum(width));
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
        if (now - lastReportMillis >= config.metricsInterval().toMillis()) {
            if (validation.hasWindow()) {
                output.collect(ProgressiveValidation.METRICS, new StreamRecord<>(validation.report(config.modelId(), index,
                        System.currentTimeMillis()).withAuc(auc.auc())
                        .withTraffic(trainer.bytesPushed(), trainer.bytesReceived(), null)));
            }
            lastReportMillis = now;
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
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        checkpointed = true;
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        replicaState.update(RestoredReplicas.checkpointed(replica, config.mode()));
        List<RowLookupReply> held = new ArrayList<>();
        assembling.values().forEach(held::addAll);
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
