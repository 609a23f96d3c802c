package io.streambelief.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import io.streambelief.model.record.RecordFormatException;
import io.streambelief.model.record.RowCodecs;
import io.streambelief.model.record.RowUpdate;

/**
 * The embedding rows of the served sparse models, in a local RocksDB, so that the server's memory
 * does not grow with the tables: only the rows a request names are read. Filled from the
 * compacted {@code embedding-rows} topic; a row the store does not have is the zero row.
 *
 * <p>Kept under the server's state directory (and so still there after a restart), or in a
 * temporary directory removed on close when the server keeps no state. Thread-safe.
 */
public final class RowStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    private final boolean temporary;
    private final Options options;
    private final RocksDB db;
    private final WriteOptions writes = new WriteOptions().setDisableWAL(true);
    private long unreadable;
    /** Models whose activity is kept at most: embedding-rows is input, and no record may grow memory without end. */
    static final int MAX_MODELS = 100;
    /** Per model, what its rows have done here. */
    private final Map<String, Tracker> activity = new ConcurrentHashMap<>();

    /**
     * What a model's rows have done here: the row updates taken (a row updated twice counts twice)
     * and when its shards published the newest of them; the rows it had no row for before, in all
     * and per second over the last {@link Tracker#RATE_SECONDS} seconds; and the row lag as served:
     * from the creation of the oldest gradient an update holds to its taking here, p50 and p99 over
     * the last {@link Tracker#LAGS} updates that carried that time (NaN before any).
     */
    public record RowActivity(long updates, long newestMillis, long newRows, double newRowsPerSecond,
            double lagP50Millis, double lagP99Millis) {
        static final RowActivity NONE = new RowActivity(0, 0, 0, 0, Double.NaN, Double.NaN);
    }

    /** One model's activity, taken on the consumer's thread and read by the endpoints'. */
    private static final class Tracker {
        static final int RATE_SECONDS = 10;
        static final int LAGS = 1_000;

        private long updates;
        private long newestMillis;
        private long newRows;
        /** New rows per second of the clock, the last {@link #RATE_SECONDS} + 1 seconds, by second mod length. */
        private final long[] newPerSecond = new long[RATE_SECONDS + 1];
        private final long[] secondOf = new long[RATE_SECONDS + 1];
        private final long[] lags = new long[LAGS];
        private int lagCount;

        synchronized void take(RowUpdate update, boolean newRow, long now) {
            updates++;
            newestMillis = Math.max(newestMillis, update.timestampMillis());
            if (newRow) {
                newRows++;
                long second = now / 1000;
                int slot = (int) (second % newPerSecond.length);
                if (secondOf[slot] != second) {
                    secondOf[slot] = second;
                    newPerSecond[slot] = 0;
                }
                newPerSecond[slot]++;
            }
            if (update.gradientMillis() > 0) {
                lags[lagCount++ % LAGS] = Math.max(0, now - update.gradientMillis());
            }
        }

        synchronized RowActivity read(long now) {
            long second = now / 1000;
            long recent = 0;
            // The last RATE_SECONDS whole seconds; the current one is still filling.
            for (int i = 0; i < newPerSecond.length; i++) {
                if (secondOf[i] < second && secondOf[i] >= second - RATE_SECONDS) {
                    recent += newPerSecond[i];
                }
            }
            long[] sorted = Arrays.copyOf(lags, Math.min(lagCount, LAGS));
            Arrays.sort(sorted);
            return new RowActivity(updates, newestMillis, newRows, (double) recent / RATE_SECONDS,
                    quantile(sorted, 0.5), quantile(sorted, 0.99));
        }

        private static double quantile(long[] sorted, double q) {
            return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))];
        }
    }

    private RowStore(Path directory, boolean temporary) {
        this.directory = directory;
        this.temporary = temporary;
        this.options = new Options().setCreateIfMissing(true);
        try {
            Files.createDirectories(directory);
            this.db = RocksDB.open(options, directory.toString());
        } catch (IOException e) {
            options.close();
            throw new UncheckedIOException("Cannot create the row store at " + directory, e);
        } catch (RocksDBException e) {
            options.close();
            throw new IllegalStateException("Cannot open the row store at " + directory + ": " + e.getMessage(), e);
        }
    }

    /** Opens (or creates) the store in {@code directory}; {@code null}: a temporary one. */
    public static RowStore open(Path directory) {
        if (directory != null) {
            return new RowStore(directory, false);
        }
        try {
            return new RowStore(Files.createTempDirectory("streambelief-rows"), true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a temporary row store", e);
        }
    }

    /** Takes records of {@code embedding-rows}; what does not decode is counted and skipped. */
    public void apply(List<byte[]> values) {
        apply(values, System.currentTimeMillis());
    }

    /** As {@link #apply(List)}, taken at {@code now}. */
    void apply(List<byte[]> values, long now) {
        // A row twice in one batch is new at most once: the batch is not in the store yet.
        Set<ByteBuffer> batched = new HashSet<>();
        try (WriteBatch batch = new WriteBatch()) {
            for (byte[] value : values) {
                if (value == null) {
                    continue;
                }
                RowUpdate update;
                try {
                    update = RowCodecs.decodeUpdate(value);
                } catch (RecordFormatException e) {
                    unreadable++;
                    continue;
                }
                if (!finite(update.values())) {
                    unreadable++;
                    continue;
                }
                ByteBuffer row = ByteBuffer.allocate(4 * update.values().length);
                row.asFloatBuffer().put(update.values());
                byte[] key = key(update.modelId(), update.id());
                boolean newRow = batched.add(ByteBuffer.wrap(key)) && db.get(key) == null;
                batch.put(key, row.array());
                if (activity.size() < MAX_MODELS || activity.containsKey(update.modelId())) {
                    activity.computeIfAbsent(update.modelId(), model -> new Tracker())
                            .take(update, newRow, now);
                }
            }
            db.write(writes, batch);
        } catch (RocksDBException e) {
            throw new IllegalStateException("Cannot write rows to " + directory + ": " + e.getMessage(), e);
        }
    }

    /**
     * The rows of {@code ids} of model {@code model}, each {@code width} floats, one after the
     * other; zeros for ids without a row.
     */
    public float[] lookup(String model, long[] ids, int width) {
        List<byte[]> keys = new ArrayList<>(ids.length);
        for (long id : ids) {
            keys.add(key(model, id));
        }
        float[] rows = new float[ids.length * width];
        try {
            List<byte[]> values = db.multiGetAsList(keys);
            for (int i = 0; i < ids.length; i++) {
                byte[] value = values.get(i);
                if (value != null && value.length == 4 * width) {
                    ByteBuffer.wrap(value).asFloatBuffer().get(rows, i * width, width);
                }
            }
        } catch (RocksDBException e) {
            throw new IllegalStateException("Cannot read rows from " + directory + ": " + e.getMessage(), e);
        }
        return rows;
    }

    private static boolean finite(float[] values) {
        for (float value : values) {
            if (!Float.isFinite(value)) {
                return false;
            }
        }
        return true;
    }

    /** What the rows of {@code model} have done here so far. */
    public RowActivity activity(String model) {
        return activity(model, System.currentTimeMillis());
    }

    RowActivity activity(String model, long now) {
        Tracker tracker = activity.get(model);
        return tracker == null ? RowActivity.NONE : tracker.read(now);
    }

    /** RocksDB's estimate of the rows held, of all models. */
    public long estimatedRows() {
        try {
            return db.getLongProperty("rocksdb.estimate-num-keys");
        } catch (RocksDBException e) {
            return -1;
        }
    }

    long unreadable() {
        return unreadable;
    }

    private static byte[] key(String model, long id) {
        byte[] prefix = model.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(prefix.length + 1 + 8).put(prefix).put((byte) '/').putLong(id).array();
    }

    @Override
    public void close() {
        writes.close();
        db.close();
        options.close();
        if (temporary) {
            try (Stream<Path> files = Files.walk(directory)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException e) {
                // A temporary directory left behind is the system's to clean.
            }
        }
    }
}
