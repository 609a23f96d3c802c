package io.streambelief.model.trainer;

import java.io.Serializable;
import java.util.List;
import java.util.function.Consumer;

import io.streambelief.model.Example;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.compression.ErrorFeedback;
import io.streambelief.model.compression.GradientCompression;
import io.streambelief.model.engine.GradientEngine;
import io.streambelief.model.engine.GradientStep;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.GradientSliceCodec;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamDeltaCodec;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

/**
 * One Downpour worker's loop, without the stream processor around it: mini-batches of examples,
 * a gradient per batch from the engine, gradients summed over {@code nPush} batches, clipped,
 * compressed with error feedback and pushed as one {@link GradientSlice} per shard; received
 * shard records merged into the {@link ModelReplica} at most every {@code nFetch} batches, or
 * whenever the step bound needs them. The Flink operators around it add what only they can:
 * input, timers, checkpoints, metrics.
 *
 * <p>A caller whose engine takes more than a {@link MiniBatch} (the wide &amp; deep engine also
 * takes looked-up rows) builds its batches and runs its engine itself, between
 * {@link #beginStep} and {@link #completeStep}; the trainer does the rest as for its own batches.
 *
 * <p>Not thread-safe: one per worker.
 */
public final class Trainer {

    /**
     * @param batchSize examples per mini-batch
     * @param nFetch mini-batches between taking in received parameters (DistBelief's n_fetch)
     * @param nPush mini-batches whose gradients are summed into one push (n_push)
     * @param clipNorm L2 norm each mini-batch's gradient is clipped to (0: off)
     * @param compression what a push sends of the accumulated gradient
     * @param bound when a mini-batch must wait for more recent parameters
     * @param stalenessBound for {@link StepBound#STALENESS}: pushes a peer may be behind
     * @param workers how many workers push to the same servers
     */
    public record Settings(int batchSize, int nFetch, int nPush, double clipNorm, GradientCompression compression,
            StepBound bound, int stalenessBound, int workers) implements Serializable {}

    private final Settings settings;
    private final ParameterLayout layout;
    private final int worker;
    private final ModelReplica replica;
    /** Null for a caller that runs its own engine, as is {@link #batch}. */
    private final GradientEngine engine;
    private final ErrorFeedback feedback;
    private final Consumer<GradientSlice> out;
    private final MiniBatch.Builder batch;
    /** Where the engine writes each mini-batch's gradient; read at once, so one array serves all. */
    private final float[] gradientBuffer;
    private final long[] pushBaseVersions;
    private float[] pushSum;
    /** Whether the engine's parameters lag behind the replica's. */
    private boolean engineStale = true;
    /** Mini-batches trained since the replica last took in received parameters. */
    private int batchesSinceFetch;
    private int batchesInPush;
    private int examplesInPush;

    private long examplesTrained;
    private long examplesDropped;
    private long pushes;
    /** The examples of the mini-batch being filled, and of the push being summed (of those given to {@link #add}). */
    private ExampleDigest batchDigest = ExampleDigest.EMPTY;
    private ExampleDigest pushDigest = ExampleDigest.EMPTY;
    private long bytesPushed;
    private long bytesReceived;
    private long updatesReceived;

    /**
     * @param residuals checkpointed error-feedback residuals this worker takes over (their sum)
     * @param out receives every pushed slice
     */
    public Trainer(Settings settings, ParameterLayout layout, int worker, int numInputs, ModelReplica replica,
            GradientEngine engine, Iterable<float[]> residuals, Consumer<GradientSlice> out) {
        this(settings, layout, worker, replica, engine, MiniBatch.builder(settings.batchSize(), numInputs),
                residuals, out);
    }

    /**
     * A trainer for a caller that batches examples and runs its engine itself
     * ({@link #beginStep}, {@link #completeStep}); it has no mini-batch of its own to
     * {@link #add} to, {@link #trainBatch} or {@link #flush}.
     */
    public Trainer(Settings settings, ParameterLayout layout, int worker, ModelReplica replica,
            Iterable<float[]> residuals, Consumer<GradientSlice> out) {
        this(settings, layout, worker, replica, null, null, residuals, out);
    }

    private Trainer(Settings settings, ParameterLayout layout, int worker, ModelReplica replica,
            GradientEngine engine, MiniBatch.Builder batch, Iterable<float[]> residuals,
            Consumer<GradientSlice> out) {
        this.settings = settings;
        this.layout = layout;
        this.worker = worker;
        this.replica = replica;
        this.engine = engine;
        this.out = out;
        this.feedback = new ErrorFeedback(settings.compression(), layout);
        feedback.restore(residuals);
        this.batch = batch;
        this.gradientBuffer = engine != null ? new float[layout.numParams()] : null;
        this.pushSum = new float[layout.numParams()];
        this.pushBaseVersions = new long[layout.shardCount()];
        this.batchesSinceFetch = settings.nFetch();
    }

    /** Adds one example to the mini-batch; returns whether the batch is full and should be trained. */
    public boolean add(Example example) {
        batch.add(example);
        batchDigest = batchDigest.plus(ExampleDigest.of(example));
        return batch.isFull();
    }

    public boolean batchFull() {
        return batch.isFull();
    }

    public boolean hasPartialBatch() {
        return !batch.isEmpty();
    }

    /** The examples of the mini-batch being filled, which a checkpoint keeps. */
    public List<Example> partialBatch() {
        return batch.examples();
    }

    /** Takes in one shard of parameters as the servers published it; another model's is ignored by the caller. */
    public boolean receive(ParamUpdate update) {
        if (!replica.receive(update)) {
            return false;
        }
        updatesReceived++;
        bytesReceived += ParamUpdateCodec.encodedSize(update);
        return true;
    }

    /** Takes in one shard's delta as the servers sent it ({@link ModelReplica#receive(ParamDelta)}). */
    public boolean receive(ParamDelta delta) {
        if (!replica.receive(delta)) {
            return false;
        }
        updatesReceived++;
        bytesReceived += ParamDeltaCodec.encodedSize(delta);
        return true;
    }

    /**
     * Whether the next mini-batch may be computed now. NONE: always. STALENESS: when the
     * parameters hold every other worker's pushes up to {@code s} before the one this batch goes
     * into. SYNCHRONOUS: when they hold the servers' result of this worker's previous step (which
     * they apply only once every worker's gradient for it arrived). Takes in received parameters
     * if that is what it takes, whatever nFetch says.
     */
    public boolean mayTrain() {
        if (settings.bound() == StepBound.NONE || withinBound()) {
            return true;
        }
        if (replica.hasUnmerged()) {
            merge();
        }
        return withinBound();
    }

    private boolean withinBound() {
        long next = replica.lastPush() + 1;
        return settings.bound() == StepBound.SYNCHRONOUS
                ? replica.acknowledgedPush() >= next - 1
                : next - replica.slowestPeerPush(settings.workers()) <= settings.stalenessBound() + 1;
    }

    private void merge() {
        replica.merge();
        engineStale = true;
        batchesSinceFetch = 0;
    }

    /**
     * Computes the mini-batch's gradient (evaluating the parameters on it first) and adds it to
     * the next push, which leaves once it holds {@code nPush} mini-batches. A batch whose
     * gradient is not finite is counted and dropped: nothing of it reaches the servers.
     *
     * @return the step, for progressive validation
     */
    public GradientStep trainBatch() {
        beginStep(engine::setParameters);
        MiniBatch examples = batch.build();
        GradientStep step = engine.step(examples, gradientBuffer);
        ExampleDigest digest = batchDigest;
        batchDigest = ExampleDigest.EMPTY;
        completeStep(step.gradient(), digest);
        return step;
    }

    /**
     * Readies the next mini-batch for a caller that computes its gradient itself: takes in
     * received parameters when nFetch mini-batches have passed since it last did, and hands
     * {@code setParameters} the values to compute on if they changed since the previous step (the
     * caller's engine still holds them otherwise). The values are the replica's own: read, never
     * written. The step bound is the caller's to check first ({@link #mayTrain}).
     */
    public void beginStep(Consumer<float[]> setParameters) {
        if (replica.hasUnmerged() && batchesSinceFetch >= settings.nFetch()) {
            merge();
        }
        if (engineStale) {
            setParameters.accept(replica.values());
            engineStale = false;
        }
    }

    /**
     * Takes the gradient of a step begun with {@link #beginStep} over the examples of
     * {@code examples} (their digest travels with the push to the shards), as {@link #trainBatch}
     * takes its engine's: clipped, added to the next push, which leaves once it holds
     * {@code nPush} mini-batches. {@code gradient} is read during the call only.
     *
     * @return false if the gradient was not finite: then it is counted and dropped, as its
     *     examples are, and nothing of it reaches the servers
     */
    public boolean completeStep(float[] gradient, ExampleDigest examples) {
        int size = Math.toIntExact(examples.count());
        if (!isFinite(gradient)) {
            discardStep(size);
            return false;
        }
        countStep(size);
        if (batchesInPush == 0) {
            System.arraycopy(replica.versions(), 0, pushBaseVersions, 0, pushBaseVersions.length);
        }
        float scale = clippingScale(gradient, settings.clipNorm());
        for (int i = 0; i < gradient.length; i++) {
            pushSum[i] += scale * gradient[i];
        }
        batchesInPush++;
        examplesInPush += size;
        pushDigest = pushDigest.plus(examples);
        if (batchesInPush >= settings.nPush()) {
            push(false);
        }
        return true;
    }

    /**
     * Ends a step begun with {@link #beginStep} whose outcome the caller drops (what else it
     * computed was not finite): its examples count as trained and dropped, and nothing is pushed.
     */
    public void discardStep(int examples) {
        countStep(examples);
        examplesDropped += examples;
        batchDigest = ExampleDigest.EMPTY;
    }

    private void countStep(int examples) {
        batchesSinceFetch++;
        examplesTrained += examples;
    }

    /**
     * Pushes what is accumulated, compressed as any push: before a checkpoint barrier, so that
     * every example before it is in the servers' state or in the residual checkpointed with the
     * worker.
     */
    public void pushAccumulated() {
        if (batchesInPush > 0) {
            push(false);
        }
    }

    /**
     * Trains the partial batch (when the bound allows) and pushes everything held, the whole
     * residual included: for when the stream goes quiet or ends, so that the model then holds
     * every gradient seen.
     *
     * @return the step of the partial batch, or null if none was trained
     */
    public GradientStep flush() {
        GradientStep step = hasPartialBatch() && mayTrain() ? trainBatch() : null;
        if (batchesInPush > 0) {
            push(true);
        } else if (feedback.hasResidual() && mayTrain()) {
            // A push of the residual alone is a step of its own, so it waits for the bound like one.
            System.arraycopy(replica.versions(), 0, pushBaseVersions, 0, pushBaseVersions.length);
            push(true);
        }
        return step;
    }

    private void push(boolean drain) {
        ErrorFeedback.Sent sent = drain ? feedback.drain(pushSum) : feedback.compress(pushSum);
        // The sum is handed on (the replica keeps it as a pending push); the next one starts afresh.
        pushSum = new float[layout.numParams()];
        long sequence = replica.push(sent.values());
        engineStale = true;
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            GradientSlice slice = sent.isSparse()
                    ? GradientSlice.sparse(shard, worker, sequence, pushBaseVersions[shard], examplesInPush,
                            layout.length(shard), sent.indices()[shard], sent.entries(layout, shard))
                    : new GradientSlice(shard, worker, sequence, pushBaseVersions[shard], examplesInPush,
                            layout.slice(sent.values(), shard));
            slice = slice.withDigest(pushDigest);
            bytesPushed += GradientSliceCodec.encodedSize(slice);
            out.accept(slice);
        }
        batchesInPush = 0;
        examplesInPush = 0;
        pushDigest = ExampleDigest.EMPTY;
        pushes++;
    }

    public ModelReplica replica() {
        return replica;
    }

    public ErrorFeedback errorFeedback() {
        return feedback;
    }

    public long examplesTrained() {
        return examplesTrained;
    }

    public long examplesDropped() {
        return examplesDropped;
    }

    public long pushes() {
        return pushes;
    }

    /** Bytes of the slices pushed, as {@link GradientSliceCodec} sends them. */
    public long bytesPushed() {
        return bytesPushed;
    }

    /** Bytes of the parameter records taken in, as their codecs carry them. */
    public long bytesReceived() {
        return bytesReceived;
    }

    public long updatesReceived() {
        return updatesReceived;
    }

    /** The factor that brings {@code gradient} down to L2 norm {@code clipNorm} (1 if it is shorter, or for 0: off). */
    public static float clippingScale(float[] gradient, double clipNorm) {
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
