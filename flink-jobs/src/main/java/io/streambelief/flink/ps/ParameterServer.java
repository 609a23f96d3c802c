package io.streambelief.flink.ps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.flink.io.RecordTypes;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.parameters.ParameterShard;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ShardState;
import io.streambelief.model.record.SnapshotChunk;
import io.streambelief.model.record.SnapshotChunkCodec;

/**
 * The parameter server, keyed by shard id: applies each worker's gradient slice to its shard with
 * the configured optimizer, and publishes the shard's latest values at most every
 * {@code publishInterval} (a processing-time timer), so Kafka traffic stays bounded whatever the
 * number of workers while the served model stays a fraction of a second behind. In async modes the
 * workers take deltas every publish interval, while the whole shard — hundreds of kilobytes for
 * the broker to store and the model server to read — goes to model-params at most every
 * {@code servingPublishInterval}, which a small machine may set longer than the publish interval.
 *
 * <p>State: one {@link ShardState} per key in RocksDB. Reading and writing a 256 KiB shard in
 * RocksDB for every gradient would cost more than the gradient math, so live shards are kept in
 * a write-back cache and written to state right before each checkpoint barrier (by
 * {@link ParameterServerOperator}), which is the only moment the state must be exact.
 */
public class ParameterServer extends KeyedProcessFunction<Integer, GradientSlice, ParamUpdate> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ParameterServer.class);

    /** What changed in each shard, for the async workers; see {@link ParameterShard#toDelta}. */
    public static final OutputTag<ParamDelta> DELTAS = new OutputTag<>("param-deltas", RecordTypes.PARAM_DELTA);

    /**
     * Every this many deltas of a shard, one is full: a worker that missed a delta (after a
     * failure, or a record it could not decode) catches up within this many publish intervals.
     */
    static final int FULL_DELTA_EVERY = 50;

    private final TrainingConfig config;

    private transient ValueState<ShardState> state;
    /** BSP: the gradients of the steps being gathered (the next, and pushes of the one after). */
    private transient ListState<GradientSlice> stepState;
    private transient Map<Integer, List<GradientSlice>> steps;
    private transient Map<Integer, ParameterShard> shards;
    private transient Set<Integer> dirty;
    private transient Set<Integer> publishScheduled;
    /** Async: when each shard's whole values last went out (processing time), and the shards that wait to go. */
    private transient Map<Integer, Long> wholePublished;
    private transient Set<Integer> wholePending;
    private transient float[] initialParameters;
    private transient ShardKeys shardKeys;
    private transient Counter applied;
    private transient Counter rejected;
    private transient Counter published;
    private transient Histogram staleness;
    private transient long gradientsBeforeFailure;
    private transient long gradientsBeforeCommitFailure;

    public ParameterServer(TrainingConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext context) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("shard", TypeInformation.of(ShardState.class)));
        shardKeys = ShardKeys.spread(config.layout().shardCount());
        TaskInfo task = getRuntimeContext().getTaskInfo();
        gradientsBeforeFailure = config.failureInjection().eventsBeforeFailure(task.getAttemptNumber(),
                FailureInjection.Operator.PARAMETER_SERVER, task.getIndexOfThisSubtask());
        gradientsBeforeCommitFailure = config.failureInjection().eventsBeforeFailure(task.getAttemptNumber(),
                FailureInjection.Operator.CHECKPOINT_COMMIT, task.getIndexOfThisSubtask());
        stepState = getRuntimeContext().getListState(new ListStateDescriptor<>("bsp-step", RecordTypes.GRADIENT_SLICE));
        steps = new HashMap<>();
        shards = new HashMap<>();
        dirty = new HashSet<>();
        publishScheduled = new HashSet<>();
        wholePublished = new HashMap<>();
        wholePending = new HashSet<>();
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        applied = metrics.counter("gradientsApplied");
        rejected = metrics.counter("gradientsRejectedNonFinite");
        published = metrics.counter("updatesPublished");
        staleness = metrics.histogram("staleness", new DescriptiveStatisticsHistogram(10_000));
    }

    @Override
    public void processElement(GradientSlice gradient, Context context, Collector<ParamUpdate> out) throws Exception {
        int key = context.getCurrentKey();
        if (--gradientsBeforeFailure < 0) {
            throw FailureInjection.failure("parameter server", getRuntimeContext().getTaskInfo().getAttemptNumber(),
                    applied.getCount() + " gradients");
        }
        gradientsBeforeCommitFailure--;
        if (config.mode() == TrainingMode.BSP) {
            gatherStep(key, gradient, out);
            return;
        }
        long lag = shard(key).apply(gradient);
        if (lag < 0) {
            rejected.inc();
            return;
        }
        applied.inc();
        staleness.update(lag);
        dirty.add(key);
        if (publishScheduled.add(key)) {
            long now = context.timerService().currentProcessingTime();
            context.timerService().registerProcessingTimeTimer(now + config.publishInterval().toMillis());
        }
    }

    /**
     * BSP: keeps the gradient until every worker's for its step is in, then applies their mean
     * and publishes at once, since every worker waits for it. Each worker pushes once per step,
     * so a push's number is its step's. A worker pushes step t+1 only on the result of step t,
     * but after a restore from an unaligned checkpoint a push of step t+1 may come first: the
     * worker took in the result of step t that the failed attempt published after the servers'
     * snapshot, while the push that completes step t here is replayed in-flight data of another
     * channel. So pushes are gathered by step, and steps applied in order.
     */
    private void gatherStep(int key, GradientSlice gradient, Collector<ParamUpdate> out) throws Exception {
        List<GradientSlice> gathered = steps.get(key);
        if (gathered == null) {
            gathered = new ArrayList<>();
            stepState.get().forEach(gathered::add);
            steps.put(key, gathered);
        }
        gathered.add(gradient);
        dirty.add(key);
        while (!gathered.isEmpty()) {
            long next = gathered.stream().mapToLong(GradientSlice::push).min().getAsLong();
            List<GradientSlice> step = gathered.stream().filter(g -> g.push() == next).toList();
            if (step.size() < config.workers()) {
                return;
            }
            ParameterShard shard = shard(key);
            int refused = shard.applyStep(step);
            applied.inc(step.size() - refused);
            rejected.inc(refused);
            staleness.update(0);
            gathered.removeIf(g -> g.push() == next);
            published.inc();
            out.collect(shard.toUpdate(config.modelId(), System.currentTimeMillis()));
        }
    }

    /** Told that checkpoint {@code checkpointId} completed, while its Kafka transactions are being committed. */
    void checkpointCompleted(long checkpointId) {
        if (gradientsBeforeCommitFailure < 0) {
            throw FailureInjection.failure("parameter server", getRuntimeContext().getTaskInfo().getAttemptNumber(),
                    "checkpoint " + checkpointId + " completed, while its transactions commit");
        }
    }

    /**
     * A publish timer (gradients came in), or an async shard's whole-values timer. A timer restored
     * from a checkpoint is neither in this attempt's sets, and publishes both, as a publish timer.
     */
    @Override
    public void onTimer(long timestamp, OnTimerContext context, Collector<ParamUpdate> out) throws Exception {
        int key = context.getCurrentKey();
        boolean wholeOnly = wholePending.contains(key) && !publishScheduled.contains(key);
        publishScheduled.remove(key);
        ParameterShard shard = shard(key);
        if (!config.sendsDeltas()) {
            publish(key, shard, out, delta -> context.output(DELTAS, delta));
            return;
        }
        long wallClock = System.currentTimeMillis();
        if (!wholeOnly) {
            published.inc();
            context.output(DELTAS, shard.toDelta(config.modelId(), wallClock, FULL_DELTA_EVERY));
        }
        long now = context.timerService().currentProcessingTime();
        Long last = wholePublished.get(key);
        long due = last == null ? now : last + config.servingPublishInterval().toMillis();
        if (now >= due) {
            wholePublished.put(key, now);
            publishWhole(key, shard, wallClock, out);
        } else if (wholePending.add(key)) {
            context.timerService().registerProcessingTimeTimer(due);
        }
    }

    private void publishWhole(int key, ParameterShard shard, long wallClock, Collector<ParamUpdate> out) {
        wholePending.remove(key);
        out.collect(shard.toUpdate(config.modelId(), wallClock));
    }

    /** The shard's whole record for model-params and, for async workers, its delta. */
    private void publish(int key, ParameterShard shard, Collector<ParamUpdate> out, Consumer<ParamDelta> deltas) {
        long now = System.currentTimeMillis();
        published.inc();
        publishWhole(key, shard, now, out);
        if (config.sendsDeltas()) {
            deltas.accept(shard.toDelta(config.modelId(), now, FULL_DELTA_EVERY));
        }
    }

    /** The live shard of the current key: cached, else restored from state, else the initial values. */
    private ParameterShard shard(int key) throws Exception {
        ParameterShard shard = shards.get(key);
        if (shard == null) {
            ShardState saved = state.value();
            if (saved != null) {
                shard = ParameterShard.restore(saved, config.optimizer(), config.averageDecay());
            } else {
                ParameterLayout layout = config.layout();
                if (initialParameters == null) {
                    initialParameters = config.spec().initialParameters();
                }
                int id = shardKeys.shard(key);
                shard = ParameterShard.initial(id, layout.slice(initialParameters, id), config.optimizer(),
                        config.averageDecay());
            }
            shards.put(key, shard);
        }
        return shard;
    }

    @Override
    public void close() throws Exception {
        if (staleness != null && staleness.getCount() > 0) {
            var stats = staleness.getStatistics();
            LOG.info("Parameter server {}: {} gradients applied, {} refused, {} updates published; staleness of the "
                    + "last {}: mean {}, p50 {}, p99 {}, max {}", getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                    applied.getCount(), rejected.getCount(), published.getCount(), stats.size(),
                    String.format("%.1f", stats.getMean()),
                    stats.getQuantile(0.5), stats.getQuantile(0.99), stats.getMax());
        }
        super.close();
    }

    /** The keys of all the model's shards, owned by this subtask or not. */
    int[] shardKeys() {
        int[] keys = new int[config.layout().shardCount()];
        for (int shard = 0; shard < keys.length; shard++) {
            keys[shard] = shardKeys.key(shard);
        }
        return keys;
    }

    /** The current key's shard as a snapshot chunk of {@code checkpointId}; the caller has set the key. */
    byte[] snapshotChunk(int key, long checkpointId) throws Exception {
        return SnapshotChunkCodec.encode(new SnapshotChunk(checkpointId, config.layout().shardCount(),
                shard(key).toSnapshot(config.modelId(), System.currentTimeMillis())));
    }

    /** Shards changed since they were last written to state. */
    Set<Integer> dirtyShards() {
        return dirty;
    }

    /** Writes the current key's live shard to state; the caller has set the key. */
    void writeBack(int key) throws Exception {
        ParameterShard shard = shards.get(key);
        if (shard != null) {
            state.update(shard.toState());
        }
        List<GradientSlice> step = steps.get(key);
        if (step != null) {
            stepState.update(step);
        }
    }

    /** Publishes every shard whose publication is pending, for the end of a bounded input. */
    void publishPending(Collector<ParamUpdate> out, Consumer<ParamDelta> deltas) {
        Set<Integer> pending = new TreeSet<>(publishScheduled);
        pending.addAll(wholePending);
        for (int key : pending) {
            publish(key, shards.get(key), out, deltas);
        }
        publishScheduled.clear();
    }
}
