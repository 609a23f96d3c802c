package io.streambelief.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

/**
 * The served models kept in a local RocksDB, so a restarted server answers at once, before it
 * has reached Kafka (which may be down, or far away). Entries are model-params records, keyed as
 * on the topic ({@code <model>/spec}, {@code <model>/<shard>}) plus, for snapshot mode,
 * {@code <model>/checkpoint}; the values are the topic's own codecs, so a copy is read back with
 * the same checks (CRC, format version) as the topic.
 *
 * <p>Writes are not synced: a machine crash can lose the last few publishes, after which the
 * server starts from a slightly older model and catches up from Kafka as usual.
 */
public final class LocalModelCopy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalModelCopy.class);

    static final String CHECKPOINT_SUFFIX = "/checkpoint";
    private static final String SPEC_SUFFIX = "/spec";

    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    private final Options options;
    private final RocksDB db;
    private final WriteOptions writeOptions = new WriteOptions();
    /** Per model, the definition whose shards the copy holds; a new one replaces them all. */
    private final Map<String, ModelDefinition> definitions = new HashMap<>();

    private LocalModelCopy(Path directory, Options options, RocksDB db) {
        this.directory = directory;
        this.options = options;
        this.db = db;
    }

    /** Opens the copy in {@code directory}, creating it if there is none. */
    public static LocalModelCopy open(Path directory) {
        Options options = new Options().setCreateIfMissing(true);
        try {
            Files.createDirectories(directory);
            return new LocalModelCopy(directory, options, RocksDB.open(options, directory.toString()));
        } catch (IOException e) {
            options.close();
            throw new UncheckedIOException("Cannot create the model copy's directory " + directory, e);
        } catch (RocksDBException e) {
            options.close();
            throw new IllegalStateException("Cannot open the model copy in " + directory + ": " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("lock")
                            ? " (is another model server using it? give each its own --state-dir)" : ""), e);
        }
    }

    public Path directory() {
        return directory;
    }

    /** Hands every entry to {@code entry}: each model's definition before its shards. */
    void restore(BiConsumer<String, byte[]> entry) {
        List<Map.Entry<String, byte[]>> rest = new ArrayList<>();
        try (RocksIterator it = db.newIterator()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                String key = new String(it.key(), StandardCharsets.UTF_8);
                if (key.endsWith(SPEC_SUFFIX)) {
                    remember(key, it.value());
                    entry.accept(key, it.value());
                } else {
                    rest.add(Map.entry(key, it.value()));
                }
            }
        }
        rest.forEach(e -> entry.accept(e.getKey(), e.getValue()));
    }

    private void remember(String specKey, byte[] value) {
        try {
            ModelDefinition definition = ModelDefinitionCodec.decode(value);
            definitions.put(definition.modelId(), definition);
        } catch (RuntimeException e) {
            LOG.warn("Model copy entry {} is unreadable; it will be replaced", specKey, e);
        }
    }

    /**
     * Keeps a model's definition and its changed shards (and the checkpoint they were taken at, in
     * snapshot mode) in one atomic write. A failed write is logged: serving goes on from memory.
     */
    void save(ModelDefinition definition, Collection<ParamUpdate> shards, Long checkpointId) {
        String model = definition.modelId();
        try (WriteBatch batch = new WriteBatch()) {
            if (!definition.equals(definitions.get(model))) {
                // A redefined model's old shards must not be restored into the new one.
                batch.deleteRange(bytes(model + "/"), bytes(model + "0"));
                batch.put(bytes(ModelIds.definitionKey(model)), ModelDefinitionCodec.encode(definition));
            }
            for (ParamUpdate shard : shards) {
                batch.put(bytes(ModelIds.shardKey(model, shard.shardId())), ParamUpdateCodec.encode(shard));
            }
            if (checkpointId != null) {
                batch.put(bytes(model + CHECKPOINT_SUFFIX), ByteBuffer.allocate(8).putLong(checkpointId).array());
            }
            db.write(writeOptions, batch);
            definitions.put(model, definition);
        } catch (RocksDBException e) {
            LOG.warn("Could not keep model {} in the local copy {}: {}", model, directory, e.getMessage());
        }
    }

    static long checkpointId(byte[] value) {
        if (value.length != 8) {
            throw new IllegalArgumentException("checkpoint id entry has " + value.length + " bytes, not 8");
        }
        return ByteBuffer.wrap(value).getLong();
    }

    private static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        writeOptions.close();
        db.close();
        options.close();
    }
}
