package io.streambelief.serving;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.model.record.RecordFormatException;

/**
 * The models being served, assembled from the records of {@code model-params}: definitions under
 * {@code <model>/spec}, shard values under {@code <model>/<shard>}, applied in arrival order (the
 * last record of a shard wins). One thread applies records; any number read snapshots.
 *
 * <p>Records are applied to a working copy; {@link #publish()} turns every changed model into a
 * new immutable {@link ServedModel} and swaps it in, so a reader sees one whole version or the
 * next, never a mix.
 */
public final class ModelStore {
    private static final Logger LOG = LoggerFactory.getLogger(ModelStore.class);

    private final Map<String, ServedModel> served = new ConcurrentHashMap<>();
    private final Map<String, Assembly> assemblies = new HashMap<>();
    /** Shard records that came before their model's definition (it may sit in another partition). */
    private final Map<String, Map<Integer, ParamUpdate>> pending = new HashMap<>();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong swaps = new AtomicLong();

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
            } else {
                ParamUpdate update = ParamUpdateCodec.decode(value);
                if (!update.modelId().equals(model)) {
                    skip(key, "record belongs to model " + update.modelId());
                    return;
                }
                Assembly assembly = assemblies.get(model);
                if (assembly == null) {
                    pending.computeIfAbsent(model, m -> new HashMap<>()).put(update.shardId(), update);
                } else if (assembly.fits(update)) {
                    assembly.apply(update);
                } else {
                    skip(key, assembly.misfit(update));
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
        if (existing != null) {
            LOG.info("Model {} was redefined as {}; serving its initial parameters until updates arrive", model,
                    definition.spec().source());
        }
        Assembly assembly = new Assembly(definition);
        assemblies.put(model, assembly);
        Map<Integer, ParamUpdate> early = pending.remove(model);
        if (early != null) {
            for (ParamUpdate update : early.values()) {
                if (assembly.fits(update)) {
                    assembly.apply(update);
                } else {
                    skip(ModelIds.shardKey(model, update.shardId()), assembly.misfit(update));
                }
            }
        }
    }

    private void skip(String key, String reason) {
        skipped.incrementAndGet();
        LOG.warn("Skipping model-params record {}: {}", key, reason);
    }

    /** Swaps in a new snapshot of every model changed since the last call. */
    public void publish() {
        for (Assembly assembly : assemblies.values()) {
            if (assembly.changed) {
                served.put(assembly.definition.modelId(), assembly.snapshot());
                assembly.changed = false;
                swaps.incrementAndGet();
            }
        }
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

    /** The working copy of one model; touched only by the applying thread. */
    private static final class Assembly {
        final ModelDefinition definition;
        final ParameterLayout layout;
        final MultiLayerConfiguration configuration;
        final float[] parameters;
        final float[] average;
        /** Per shard, the timestamp of its latest record: strictly increasing, across restores too. */
        final long[] stamps;
        final long[] examples;
        final boolean[] published;
        boolean averaged;
        long updatedAtMillis;
        boolean changed = true;

        Assembly(ModelDefinition definition) {
            this.definition = definition;
            this.layout = definition.layout();
            this.configuration = definition.spec().configuration();
            // Shards never published hold the spec's deterministic initial values.
            this.parameters = definition.spec().initialParameters();
            this.average = parameters.clone();
            this.stamps = new long[layout.shardCount()];
            this.examples = new long[layout.shardCount()];
            this.published = new boolean[layout.shardCount()];
        }

        boolean fits(ParamUpdate update) {
            int shard = update.shardId();
            return shard >= 0 && shard < layout.shardCount() && update.values().length == layout.length(shard);
        }

        String misfit(ParamUpdate update) {
            return "shard " + update.shardId() + " with " + update.values().length + " values does not fit model "
                    + definition.spec().source() + " (" + layout.shardCount() + " shards of up to "
                    + layout.shardSize() + ")";
        }

        void apply(ParamUpdate update) {
            int shard = update.shardId();
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
            return new ServedModel(definition.modelId(), definition.spec(), version, trained, updatedAtMillis,
                    layout.shardCount(), new ServedModel.Network(configuration, parameters.clone()),
                    averaged ? new ServedModel.Network(configuration, average.clone()) : null);
        }
    }

    static String utf8(byte[] key) {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }

    /** For logs: the models and their versions. */
    @Override
    public String toString() {
        Map<String, Long> versions = new LinkedHashMap<>();
        names().forEach(n -> versions.put(n, served.get(n).modelVersion()));
        return "ModelStore" + versions;
    }
}
