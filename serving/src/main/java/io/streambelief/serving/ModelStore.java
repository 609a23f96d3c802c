package io.streambelief.serving;

import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ModelSnapshot;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.model.record.RecordFormatException;

/**
 * The models being served, assembled from the records of {@code model-params}: definitions under
 * {@code <model>/spec}, shard values under {@code <model>/<shard>}. One thread applies records;
 * any number read snapshots.
 *
 * <p>In {@link Consistency#LATEST} mode each shard takes its newest record as it arrives; in
 * {@link Consistency#SNAPSHOT} mode shard records are ignored and the values come whole, one
 * checkpoint's {@link ModelSnapshot} at a time, from {@code model-snapshots}, and a model is
 * served from its first snapshot on, never with its definition's initial values. Either way a shard
 * never goes back: a record older than the shard's current one (by the record timestamps, which
 * grow strictly per shard, also across job restores) is stale and dropped. That keeps a server
 * restored from its local copy from serving older values while it re-reads the topic.
 *
 * <p>Records are applied to a working copy; {@link #publish()} turns every changed model into a
 * new immutable {@link ServedModel} and swaps it in, so a reader sees one whole version or the
 * next, never a mix, and hands what changed to the {@link LocalModelCopy}, if there is one, at
 * most every {@link #COPY_SAVE_INTERVAL_NANOS} and when the server stops.
 */
public final class ModelStore {
    private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);

    /** Where served values come from. */
    public enum Consistency {
        /** The newest record of every shard, from model-params: the freshest model. */
        LATEST,
        /** Whole snapshots from model-snapshots, each taken at one completed checkpoint. */
        SNAPSHOT;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * How far ahead of this server's clock a record's timestamp may be (the clocks of the job's
     * machines and this one differ a little): one stamped later is refused rather than allowed to
     * make every record after it look stale.
     */
    static final long MAX_CLOCK_AHEAD_MILLIS = 60_000;
    /**
     * How often what was published goes to the local copy at most. Every publish (ten a second
     * while training) wrote every changed shard to RocksDB: 20 MB/s for a 235,000-parameter model,
     * a tenth of a core, for a copy whose only use is to answer after a restart. A server that
     * crashes starts from values up to a second older and catches up from Kafka as usual.
     */
    static final long COPY_SAVE_INTERVAL_NANOS = 1_000_000_000L;
    /** Values, average and the two networks' copies of them, 4 bytes each. */
    private static final long BYTES_PER_SERVED_PARAMETER = 16;

    private final Consistency consistency;
    private final LocalModelCopy copy;
    private final PublishGate gate;
    private final Map<String, ServedModel> served = new ConcurrentHashMap<>();
    private final Map<String, Assembly> assemblies = new HashMap<>();
    /** Shard records that came before their model's definition (it may sit in another partition). */
    private final Map<String, Map<Integer, ParamUpdate>> pending = new HashMap<>();
    /** Snapshots that came before their model's definition (which is on model-params). */
    private final Map<String, ModelSnapshot> pendingSnapshots = new HashMap<>();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();
    private final AtomicLong swaps = new AtomicLong();
    private final LongSupplier nanoClock;
    private long copySavedNanos;

    /** A store of the latest values, kept in memory only. */
    public ModelStore() {
        this(Consistency.LATEST, null);
    }

    public ModelStore(Consistency consistency, LocalModelCopy copy) {
        this(consistency, copy, new PublishGate(PublishGate.Settings.DEFAULTS));
    }

    /**
     * @param copy where the served models are kept across restarts, or {@code null}; what it
     *     holds is served at once
     * @param gate holds new versions back while training goes badly (fed by whoever reads training-metrics)
     */
    public ModelStore(Consistency consistency, LocalModelCopy copy, PublishGate gate) {
        this(consistency, copy, gate, System::nanoTime);
    }

    /** @param nanoClock the time that spaces the local copy's saves */
    ModelStore(Consistency consistency, LocalModelCopy copy, PublishGate gate, LongSupplier nanoClock) {
        this.consistency = consistency;
        this.copy = copy;
        this.gate = gate;
        this.nanoClock = nanoClock;
        this.copySavedNanos = nanoClock.getAsLong() - COPY_SAVE_INTERVAL_NANOS;
        if (copy != null) {
            copy.restore(this::restore);
            // What was just read from the copy need not be written back to it.
            assemblies.values().forEach(assembly -> assembly.changedShards.clear());
            publish();
            // That saved nothing new: the first values from Kafka may be saved at once.
            copySavedNanos = nanoClock.getAsLong() - COPY_SAVE_INTERVAL_NANOS;
            if (!served.isEmpty()) {
                LOG.info("Serving {} from the local copy in {} until Kafka catches up", this, copy.directory());
            }
        }
    }

    public Consistency consistency() {
        return consistency;
    }

    /** Applies one record of model-params; a record that cannot be used is logged, counted and skipped. */
    public void apply(String key, byte[] value) {
        if (key == null || value == null) {
            skipped.incrementAndGet();
            return;
        }
        int slash = key.lastIndexOf('/');
        if (slash <= 0) {
            skip(key, "key is not <model>/<shard> or <model>/spec");
            return;
        }
        String model = key.substring(0, slash);
        try {
            if (key.endsWith("/spec")) {
                define(ModelDefinitionCodec.decode(value));
            } else if (consistency == Consistency.LATEST) {
                ParamUpdate update = ParamUpdateCodec.decode(value);
                if (!update.modelId().equals(model)) {
                    skip(key, "record belongs to model " + update.modelId());
                    return;
                }
                Assembly assembly = assemblies.get(model);
                if (assembly != null) {
                    applyShard(assembly, update);
                } else {
                    // Checked now too: a record from the far future would win the wait against every real one.
                    String unservable = unservable(update, System.currentTimeMillis());
                    if (unservable != null) {
                        skip(key, unservable);
                    } else {
                        pending.computeIfAbsent(model, m -> new HashMap<>()).merge(update.shardId(), update,
                                (older, newer) -> newer.timestampMillis() > older.timestampMillis() ? newer : older);
                    }
                }
            }
        } catch (RecordFormatException e) {
            skip(key, e.getMessage());
        } catch (RuntimeException e) {
            // A definition whose DL4J configuration does not build, say: skip it, keep serving the rest.
            skip(key, e.toString());
        }
    }

    private void define(ModelDefinition definition) {
        String model = definition.modelId();
        Assembly existing = assemblies.get(model);
        if (existing != null && existing.definition.equals(definition)) {
            return;
        }
        // Building it would take the heap, and with it the thread that follows every model.
        long bytes = definition.spec().numParams() * BYTES_PER_SERVED_PARAMETER;
        if (bytes > Runtime.getRuntime().maxMemory() / 2) {
            skip(ModelIds.definitionKey(model), "model " + definition.spec().source() + " has "
                    + definition.spec().numParams() + " parameters, about " + (bytes >> 20) + " MiB served; the "
                    + "server's heap is " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB (raise -Xmx to serve it)");
            return;
        }
        FeatureSchema schema = null;
        if (definition.sparse() != null) {
            // Parsed here, once per definition, so that no request ever parses it, nor fails on it.
            try {
                schema = FeatureSchema.parse(definition.sparse().schemaSource(), definition.sparse().schemaJson());
            } catch (RuntimeException e) {
                skip(ModelIds.definitionKey(model), "the feature schema " + definition.sparse().schemaSource()
                        + " of wide & deep model " + model + " does not parse, so its requests could not be read: "
                        + e.getMessage());
                return;
            }
        }
        if (existing != null) {
            LOG.info("Model {} was redefined as {}; serving {} until updates arrive", model, definition.spec().source(),
                    consistency == Consistency.LATEST ? "its initial parameters" : "the previous definition");
        }
        Assembly assembly = new Assembly(definition, schema);
        assemblies.put(model, assembly);
        Map<Integer, ParamUpdate> early = pending.remove(model);
        if (early != null) {
            early.values().forEach(update -> applyShard(assembly, update));
        }
        ModelSnapshot snapshot = pendingSnapshots.remove(model);
        if (snapshot != null) {
            apply(snapshot);
        }
    }

    private void applyShard(Assembly assembly, ParamUpdate update) {
        String unusable = assembly.unusable(update, System.currentTimeMillis());
        if (unusable != null) {
            skip(ModelIds.shardKey(assembly.definition.modelId(), update.shardId()), unusable);
        } else if (assembly.isStale(update)) {
            stale.incrementAndGet();
        } else {
            assembly.apply(update);
        }
    }

    /**
     * Applies a whole snapshot of {@code model-snapshots} (in {@link Consistency#SNAPSHOT} mode),
     * all shards or none: one that does not fit the model's definition, or is older than what is
     * served, is skipped.
     */
    public void apply(ModelSnapshot snapshot) {
        String model = snapshot.modelId();
        Assembly assembly = assemblies.get(model);
        if (assembly == null) {
            pendingSnapshots.put(model, snapshot);
            return;
        }
        String key = model + "@checkpoint-" + snapshot.checkpointId();
        if (snapshot.shards().length != assembly.layout.shardCount()) {
            skip(key, "snapshot has " + snapshot.shards().length + " shards; model " + assembly.definition.spec().source()
                    + " has " + assembly.layout.shardCount());
            return;
        }
        long now = System.currentTimeMillis();
        for (ParamUpdate shard : snapshot.shards()) {
            String unusable = assembly.unusable(shard, now);
            if (unusable != null) {
                skip(key, unusable);
                return;
            }
        }
        if (Arrays.stream(snapshot.shards()).anyMatch(assembly::isStale)) {
            stale.incrementAndGet();
            return;
        }
        for (ParamUpdate shard : snapshot.shards()) {
            assembly.apply(shard);
        }
        assembly.checkpointId = snapshot.checkpointId();
    }

    /** Takes one entry of the local copy: a definition, a shard, or (snapshot mode) a checkpoint id. */
    private void restore(String key, byte[] value) {
        try {
            String model = key.substring(0, Math.max(0, key.lastIndexOf('/')));
            if (key.endsWith("/spec")) {
                define(ModelDefinitionCodec.decode(value));
            } else if (key.endsWith(LocalModelCopy.CHECKPOINT_SUFFIX)) {
                Assembly assembly = assemblies.get(model);
                if (assembly != null) {
                    assembly.checkpointId = LocalModelCopy.checkpointId(value);
                }
            } else {
                Assembly assembly = assemblies.get(model);
                if (assembly != null) {
                    applyShard(assembly, ParamUpdateCodec.decode(value));
                }
            }
        } catch (RuntimeException e) {
            skip(key + " (local copy)", e.toString());
        }
    }

    private void skip(String key, String reason) {
        skipped.incrementAndGet();
        LOG.warn("Skipping model-params record {}: {}", key, reason);
    }

    /**
     * Swaps in a new snapshot of every model changed since the last call, and keeps it in the
     * local copy if the last save is old enough — except a model whose publish gate is closed: it
     * goes on being served as it was (the changes wait, and go out together once the gate opens).
     */
    public void publish() {
        for (Assembly assembly : assemblies.values()) {
            String name = assembly.definition.modelId();
            if (assembly.changed && servable(assembly) && (gate.isOpen(name) || !served.containsKey(name))) {
                served.put(assembly.definition.modelId(), assembly.snapshot());
                assembly.unsavedShards.putAll(assembly.changedShards);
                assembly.unsaved = true;
                assembly.unsavedCheckpointId = assembly.checkpointId;
                assembly.changedShards.clear();
                assembly.changed = false;
                swaps.incrementAndGet();
            }
        }
        if (copy != null && nanoClock.getAsLong() - copySavedNanos >= COPY_SAVE_INTERVAL_NANOS) {
            saveCopy();
        }
    }

    /**
     * Writes what was published and not saved yet to the local copy, now: what the thread that
     * applies records does when it stops. Called by that thread only.
     */
    public void saveCopy() {
        if (copy == null) {
            return;
        }
        copySavedNanos = nanoClock.getAsLong();
        for (Assembly assembly : assemblies.values()) {
            if (assembly.unsaved) {
                copy.save(assembly.definition, assembly.unsavedShards.values(),
                        consistency == Consistency.SNAPSHOT ? assembly.unsavedCheckpointId : null);
                assembly.unsavedShards.clear();
                assembly.unsaved = false;
            }
        }
    }

    /**
     * In snapshot mode only a checkpoint's values are served, never the initial ones of a
     * definition that no snapshot has filled yet: whether the definition and the first snapshot
     * arrive in one poll or two must not change what is served.
     */
    private boolean servable(Assembly assembly) {
        return consistency == Consistency.LATEST || assembly.checkpointId >= 0;
    }

    public PublishGate gate() {
        return gate;
    }

    public Optional<ServedModel> get(String name) {
        return Optional.ofNullable(served.get(name));
    }

    public Set<String> names() {
        return new TreeSet<>(served.keySet());
    }

    /** Records skipped because they could not be used. */
    public long skippedRecords() {
        return skipped.get();
    }

    public long swaps() {
        return swaps.get();
    }

    /** Shard records and snapshots dropped because the model already held newer values. */
    public long staleRecords() {
        return stale.get();
    }

    /** Why a shard record cannot be served whatever its model, or null if it can. */
    private static String unservable(ParamUpdate update, long nowMillis) {
        if (!finite(update.values()) || update.hasAverage() && !finite(update.average())) {
            return "shard " + update.shardId() + " holds NaN or infinite values";
        }
        // Shards never go back in time, so one record from the far future would freeze its shard.
        if (update.timestampMillis() > nowMillis + MAX_CLOCK_AHEAD_MILLIS) {
            return "shard " + update.shardId() + " is stamped " + Instant.ofEpochMilli(update.timestampMillis())
                    + ", more than " + MAX_CLOCK_AHEAD_MILLIS / 1000 + " s ahead of this server's clock";
        }
        return null;
    }

    private static boolean finite(float[] values) {
        for (float value : values) {
            if (!Float.isFinite(value)) {
                return false;
            }
        }
        return true;
    }

    /** The working copy of one model; touched only by the applying thread. */
    private static final class Assembly {
        final ModelDefinition definition;
        /** The wide & deep model's schema, parsed from its definition; null for a dense model. */
        final FeatureSchema schema;
        final ParameterLayout layout;
        final MultiLayerConfiguration configuration;
        final float[] parameters;
        final float[] average;
        /** Per shard, the timestamp of its latest record: strictly increasing, across restores too. */
        final long[] stamps;
        final long[] examples;
        final boolean[] published;
        /** Per shard, its newest record since the last publish, for the local copy (values only). */
        final Map<Integer, ParamUpdate> changedShards = new HashMap<>();
        /** Per shard, its newest record published and not yet in the local copy. */
        final Map<Integer, ParamUpdate> unsavedShards = new HashMap<>();
        /** Whether something published (shards, or only the definition) is not in the local copy yet. */
        boolean unsaved;
        long unsavedCheckpointId = -1;
        boolean averaged;
        long updatedAtMillis;
        long checkpointId = -1;
        boolean changed = true;

        Assembly(ModelDefinition definition, FeatureSchema schema) {
            this.definition = definition;
            this.schema = schema;
            this.layout = definition.layout();
            this.configuration = definition.spec().configuration();
            // Shards never published hold the spec's deterministic initial values.
            this.parameters = definition.spec().initialParameters();
            this.average = parameters.clone();
            this.stamps = new long[layout.shardCount()];
            this.examples = new long[layout.shardCount()];
            this.published = new boolean[layout.shardCount()];
        }

        /** Why the record cannot be served, or null if it can. */
        String unusable(ParamUpdate update, long nowMillis) {
            int shard = update.shardId();
            if (shard < 0 || shard >= layout.shardCount() || update.values().length != layout.length(shard)
                    || update.hasAverage() && update.average().length != update.values().length) {
                return "shard " + shard + " with " + update.values().length + " values does not fit model "
                        + definition.spec().source() + " (" + layout.shardCount() + " shards of up to "
                        + layout.shardSize() + ")";
            }
            return unservable(update, nowMillis);
        }

        /** Older than, or the same as, the shard's current record. */
        boolean isStale(ParamUpdate update) {
            return published[update.shardId()] && update.timestampMillis() <= stamps[update.shardId()];
        }

        void apply(ParamUpdate update) {
            int shard = update.shardId();
            // The optimizer's slots and the pushes are training state: serving never needs them.
            changedShards.put(shard, new ParamUpdate(update.modelId(), shard, update.version(),
                    update.examplesApplied(), update.timestampMillis(), update.values(), new float[0][], new long[0],
                    update.average()));
            layout.place(parameters, shard, update.values());
            if (update.hasAverage()) {
                layout.place(average, shard, update.average());
                averaged = true;
            } else {
                layout.place(average, shard, update.values());
            }
            stamps[shard] = update.timestampMillis();
            examples[shard] = update.examplesApplied();
            published[shard] = true;
            updatedAtMillis = Math.max(updatedAtMillis, update.timestampMillis());
            changed = true;
        }

        ServedModel snapshot() {
            long version = Arrays.stream(stamps).sum();
            long trained = Long.MAX_VALUE;
            for (int s = 0; s < examples.length; s++) {
                trained = Math.min(trained, published[s] ? examples[s] : 0);
            }
            ServedModel.Network latestNetwork = new ServedModel.Network(configuration, parameters.clone());
            ServedModel.Network averageNetwork = averaged ? new ServedModel.Network(configuration, average.clone()) : null;
            if (schema == null) {
                return new DenseModel(definition.modelId(), definition.spec(), version, trained, updatedAtMillis,
                        layout.shardCount(), checkpointId, latestNetwork, averageNetwork);
            }
            return new WideDeepModel(definition.modelId(), definition.spec(), version, trained, updatedAtMillis,
                    layout.shardCount(), checkpointId, latestNetwork, averageNetwork, definition.sparse(), schema);
        }
    }

    /** For logs: the models and their versions. */
    @Override
    public String toString() {
        Map<String, Long> versions = new LinkedHashMap<>();
        names().forEach(n -> versions.put(n, served.get(n).modelVersion()));
        return "ModelStore" + versions;
    }
}
