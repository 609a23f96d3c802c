package io.streambelief.flink.federated;

import java.io.Serializable;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.InstantiationUtil;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.Federation;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.federated.Aggregate;
import io.streambelief.model.federated.ServerOptimizer;
import io.streambelief.model.record.ParamUpdate;

/**
 * One shard of the global model in the federated modes: sums the slices of counted client updates
 * the coordinator sends, and at each close applies their mean (noisy under central DP) with the
 * server optimizer and publishes the shard's new version to {@code model-params}, where clients and
 * serving read it. Its values, optimizer slots and running sum are keyed state, checkpointed.
 */
public final class FederatedShard extends KeyedProcessFunction<Integer, ShardContribution, ParamUpdate> {
    private static final long serialVersionUID = 1L;

    /** What a shard keeps between contributions. */
    static final class State implements Serializable {
        private static final long serialVersionUID = 1L;

        float[] values;
        float[][] slots;
        long version;
        long examplesApplied;
        Aggregate aggregate;
        long examplesAggregated;
    }

    private final String modelId;
    private final TrainingMode mode;
    private final Federation federation;
    private final ParameterLayout layout;
    private final ServerOptimizer optimizer;
    private final long seed;
    private final float[] initialParameters;
    private final FailureInjection failureInjection;

    private transient ValueState<byte[]> state;
    private transient long contributionsBeforeFailure;
    private transient int attempt;

    public FederatedShard(TrainingConfig config) {
        this.modelId = config.modelId();
        this.mode = config.mode();
        this.federation = config.federation();
        this.layout = config.layout();
        this.optimizer = federation.serverOptimizer();
        this.seed = config.seed();
        this.initialParameters = config.spec().initialParameters();
        this.failureInjection = config.failureInjection();
    }

    @Override
    public void open(OpenContext context) {
        state = getRuntimeContext().getState(
                new ValueStateDescriptor<>("shard", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        contributionsBeforeFailure = failureInjection.eventsBeforeFailure(attempt,
                FailureInjection.Operator.PARAMETER_SERVER, getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public void processElement(ShardContribution contribution, Context context, Collector<ParamUpdate> out)
            throws Exception {
        if (--contributionsBeforeFailure < 0) {
            throw FailureInjection.failure("federated shard", attempt, "its contributions");
        }
        byte[] bytes = state.value();
        State shard = bytes != null ? InstantiationUtil.deserializeObject(bytes, getClass().getClassLoader())
                : initial(contribution.shard());
        if (contribution.version() != shard.version) {
            throw new IllegalStateException("Shard " + contribution.shard() + " is at version " + shard.version
                    + " but was sent a contribution to " + contribution.version());
        }
        if (!contribution.closes()) {
            shard.aggregate.add(contribution.values(), contribution.weight());
            shard.examplesAggregated += contribution.examples();
        } else {
            long noiseSeed = noiseSeed(contribution.shard(), shard.version);
            float[] mean = mode == TrainingMode.FEDAVG ? federation.roundSettings().mean(shard.aggregate, noiseSeed)
                    : federation.bufferSettings().mean(shard.aggregate, noiseSeed);
            shard.version++;
            optimizer.apply(shard.values, shard.slots, mean, shard.version);
            shard.examplesApplied += shard.examplesAggregated;
            shard.examplesAggregated = 0;
            shard.aggregate = new Aggregate(shard.values.length);
            out.collect(new ParamUpdate(modelId, contribution.shard(), shard.version, shard.examplesApplied,
                    context.timerService().currentProcessingTime(), shard.values.clone()));
        }
        state.update(InstantiationUtil.serializeObject(shard));
    }

    /** The shard as the clients' version 0 has it: the model's initial parameters. */
    private State initial(int shardId) {
        State shard = new State();
        shard.values = layout.slice(initialParameters, shardId);
        shard.slots = optimizer.newSlots(shard.values.length);
        shard.aggregate = new Aggregate(shard.values.length);
        return shard;
    }

    /** Noise of a version depends on nothing else: a version replayed after a restore gets the same. */
    private long noiseSeed(int shard, long closing) {
        return ((seed * 0x9E3779B97F4A7C15L + closing) * 0xBF58476D1CE4E5B9L) + shard;
    }
}
