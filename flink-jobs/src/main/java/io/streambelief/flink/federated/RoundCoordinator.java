package io.streambelief.flink.federated;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.InstantiationUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.flink.config.FailureInjection;
import io.streambelief.flink.config.Federation;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.config.TrainingMode;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.federated.FedAvgRound;
import io.streambelief.model.federated.FedBuffBuffer;
import io.streambelief.model.federated.Offer;
import io.streambelief.model.federated.RdpAccountant;
import io.streambelief.model.record.ModelUpdate;

/**
 * Decides, once for the whole model, which client updates count and when a round (FedAvg) or a
 * buffer (FedBuff) is complete; the shards only sum what they are sent. Deciding in one place keeps
 * every shard's round the same set of clients, which shards deciding on their own (with their own
 * clocks for the deadline) could not promise. Keyed by model, so each model has one coordinator.
 *
 * <p>Its state — the open round's counted clients, or the buffer's and the model version — is Flink
 * keyed state, checkpointed with the shards' sums: a restored job resumes the round it was in, and
 * an update replayed from Kafka after the restore is counted only if the checkpoint had not counted it.
 * What is dropped is counted by reason (metrics {@code updatesDuplicate}, {@code updatesStale}, ...).
 */
public final class RoundCoordinator extends KeyedProcessFunction<String, ModelUpdate, ShardContribution> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RoundCoordinator.class);

    private final TrainingMode mode;
    private final Federation federation;
    private final ParameterLayout layout;
    private final FailureInjection failureInjection;

    /** FedAvg's open round, or FedBuff's buffer, serialized: neither is a type Flink serializes itself. */
    private transient ValueState<byte[]> membership;
    /** FedBuff: the model's version, the updates applied so far over K. FedAvg: rounds closed. */
    private transient ValueState<Long> version;
    private transient Map<Offer, Counter> offers;
    private transient Counter roundsClosed;
    private transient volatile double epsilon;
    private transient long updatesBeforeFailure;
    private transient int attempt;

    public RoundCoordinator(TrainingConfig config) {
        if (!config.mode().isFederated()) {
            throw new IllegalArgumentException("The round coordinator aggregates in a federated mode, not " + config.mode());
        }
        this.mode = config.mode();
        this.federation = config.federation();
        this.layout = config.layout();
        this.failureInjection = config.failureInjection();
    }

    @Override
    public void open(OpenContext context) {
        membership = getRuntimeContext().getState(
                new ValueStateDescriptor<>("membership", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        version = getRuntimeContext().getState(new ValueStateDescriptor<>("version", Types.LONG));
        offers = new EnumMap<>(Offer.class);
        for (Offer offer : Offer.values()) {
            String name = offer.name().toLowerCase(Locale.ROOT).replace("_", " ");
            offers.put(offer, getRuntimeContext().getMetricGroup().counter("updates" + camel(name)));
        }
        roundsClosed = getRuntimeContext().getMetricGroup().counter("roundsClosed");
        getRuntimeContext().getMetricGroup().gauge("privacyEpsilon", () -> epsilon);
        attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        // The federated job has no workers: their turn of the injected failures is the coordinator's.
        updatesBeforeFailure = failureInjection.eventsBeforeFailure(attempt, FailureInjection.Operator.WORKER,
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public void processElement(ModelUpdate update, Context context, Collector<ShardContribution> out) throws Exception {
        if (--updatesBeforeFailure < 0) {
            throw FailureInjection.failure("round coordinator", attempt, "its updates");
        }
        long now = context.timerService().currentProcessingTime();
        if (mode == TrainingMode.FEDAVG) {
            FedAvgRound round = openRound(context, now);
            Offer offer = count(round.offer(update), update);
            if (offer == Offer.COUNTED) {
                send(update, round.round(), round.weightOf(update), out);
            }
            if (round.readyToClose(now)) {
                close(round, context, now, out);
            } else {
                membership.update(InstantiationUtil.serializeObject(round));
            }
        } else {
            FedBuffBuffer buffer = buffer();
            long current = currentVersion();
            Offer offer = count(buffer.offer(update, current), update);
            if (offer == Offer.COUNTED) {
                send(update, current, FedBuffBuffer.stalenessWeight(current - update.baseVersion()), out);
            }
            if (buffer.full()) {
                int clients = buffer.buffered();
                closeAll(current, out);
                buffer.drain(current + 1);
                version.update(current + 1);
                roundsClosed.inc();
                reportPrivacy(current + 1, clients);
            }
            membership.update(InstantiationUtil.serializeObject(buffer));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext context, Collector<ShardContribution> out) throws Exception {
        byte[] bytes = membership.value();
        if (bytes == null) {
            return;
        }
        FedAvgRound round = InstantiationUtil.deserializeObject(bytes, getClass().getClassLoader());
        if (timestamp >= round.deadlineMillis() && round.readyToClose(timestamp)) {
            close(round, context, timestamp, out);
        }
    }

    /** The open round, or round 0 opened now. */
    private FedAvgRound openRound(Context context, long now) throws IOException, ClassNotFoundException {
        byte[] bytes = membership.value();
        if (bytes != null) {
            return InstantiationUtil.deserializeObject(bytes, getClass().getClassLoader());
        }
        return open(currentVersion(), context, now);
    }

    private FedAvgRound open(long round, Context context, long now) {
        FedAvgRound opened = new FedAvgRound(round, federation.sampling().sampled(round), now,
                federation.roundSettings(), layout.numParams());
        context.timerService().registerProcessingTimeTimer(opened.deadlineMillis());
        return opened;
    }

    private void close(FedAvgRound round, Context context, long now, Collector<ShardContribution> out)
            throws IOException {
        closeAll(round.round(), out);
        long next = round.round() + 1;
        version.update(next);
        roundsClosed.inc();
        reportPrivacy(next, round.clientsCounted());
        membership.update(InstantiationUtil.serializeObject(open(next, context, now)));
    }

    private Offer count(Offer offer, ModelUpdate update) {
        offers.get(offer).inc();
        if (offer != Offer.COUNTED) {
            LOG.debug("Dropped {}: {}", update, offer);
        }
        return offer;
    }

    private void send(ModelUpdate update, long toward, double weight, Collector<ShardContribution> out) {
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            out.collect(ShardContribution.slice(shard, toward, weight, update.examples(), layout.slice(update.delta(), shard)));
        }
    }

    private void closeAll(long closing, Collector<ShardContribution> out) {
        for (int shard = 0; shard < layout.shardCount(); shard++) {
            out.collect(ShardContribution.close(shard, closing));
        }
    }

    private void reportPrivacy(long rounds, int clients) {
        String privacy = "";
        if (federation.noiseMultiplier() > 0) {
            // FedBuff takes whoever reports: its sampling rate is unknown, so the accounting assumes every client is in.
            double rate = mode == TrainingMode.FEDAVG ? federation.sampling().rate() : 1;
            epsilon = new RdpAccountant(federation.noiseMultiplier(), rate).epsilon(rounds, federation.delta());
            privacy = String.format(Locale.ROOT, "; (ε, δ) = (%.3f, %s) after %d", epsilon, federation.delta(), rounds);
        }
        LOG.info("{} {} closed with {} client updates{}", mode == TrainingMode.FEDAVG ? "Round" : "Version",
                rounds - 1, clients, privacy);
    }

    private FedBuffBuffer buffer() throws IOException, ClassNotFoundException {
        byte[] bytes = membership.value();
        return bytes == null ? new FedBuffBuffer(federation.bufferSettings(), layout.numParams())
                : InstantiationUtil.deserializeObject(bytes, getClass().getClassLoader());
    }

    private long currentVersion() throws IOException {
        Long current = version.value();
        return current == null ? 0 : current;
    }

    private static String camel(String words) {
        StringBuilder name = new StringBuilder();
        for (String word : words.split(" ")) {
            name.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
        }
        return name.toString();
    }
}
