package io.streambelief.benchmarks;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.streambelief.flink.config.SparseTraining;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.flink.sparse.StoredRow;
import io.streambelief.kafka.data.SparseTeacher;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.launcher.local.LocalDeployment;
import io.streambelief.model.record.ExampleDigest;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.FeatureHash;
import io.streambelief.model.sparse.WideDeepSpec;

/**
 * Part (2) and (3) of the sparse benchmark, run in a JVM of its own whose heap is the bound being
 * tested (the parent starts it with {@code -Xmx1g}): the synthetic stream through the whole
 * training pipeline (broker, MiniCluster, RocksDB rows) until its table holds the target number
 * of rows, then a bare RocksDB read-modify-write loop over rows of the same size, on stores
 * pre-filled with the same rows, one thread per shard, in this same JVM. Prints progress, then one {@code RESULT} line for the parent.
 *
 * <p>Arguments: {@code <work-dir> <examples> <head-slots> <tail-slots> <vocabulary> <raw-seconds>}.
 */
public final class SparseScaleRun {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String MODEL = "widedeep:dim=8,mlp=16";

    private SparseScaleRun() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        long examples = Long.parseLong(args[1]);
        SparseTeacher teacher = new SparseTeacher(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                Integer.parseInt(args[4]), 1.1, 7);
        int rawSeconds = Integer.parseInt(args[5]);
        FeatureSchema schema = teacher.schema();
        SparseTraining sparse = SparseTraining.of(schema, WideDeepSpec.parse(MODEL), 2, 7);

        long start = System.nanoTime();
        long trained;
        long rowUpdates;
        long rows;
        double seconds;
        double bytesPerExample;
        try (LocalDeployment deployment = LocalDeployment.start(LocalDeployment.Settings.forTests(work).withoutServing(),
                bootstrap -> TrainingConfig.builder(bootstrap).modelId("synthetic").workers(2).seed(7).batchSize(64)
                        .checkpointInterval(Duration.ofSeconds(10)).sparse(sparse).build())) {
            say(start, "pipeline running; feeding %,d synthetic records (%d slots, %d of them new ids in every record)",
                    examples, teacher.slots(), teacher.slots() - Integer.parseInt(args[2]));
            Thread feeder = new Thread(() -> feed(deployment, teacher, examples), "feeder");
            feeder.setDaemon(true);
            feeder.start();
            long feedStart = System.nanoTime();
            long lastUpdates = -1;
            long lastChange = feedStart;
            Metrics m;
            while (true) {
                Thread.sleep(5000);
                m = Metrics.of(deployment);
                if (m.rowUpdates() != lastUpdates) {
                    lastUpdates = m.rowUpdates();
                    lastChange = System.nanoTime();
                }
                say(start, "trained %,d examples, %,d rows, %,d row updates, heap used %,d MiB of %,d", m.trained(),
                        m.rowsCreated(), m.rowUpdates(), usedHeapMiB(), Runtime.getRuntime().maxMemory() >> 20);
                if (m.trained() >= examples && System.nanoTime() - lastChange > 15e9) {
                    break;
                }
            }
            trained = m.trained();
            rowUpdates = m.rowUpdates();
            rows = m.rowsCreated();
            seconds = (lastChange - feedStart) / 1e9;
            bytesPerExample = (double) m.bytesBetweenWorkersAndShards() / trained;
        }
        double pipelineRate = rowUpdates / seconds;
        say(start, "pipeline: %,d row updates in %.1f s (%,.0f/s), %,d rows, %.0f bytes per example", rowUpdates, seconds,
                pipelineRate, rows, bytesPerExample);

        double rawRate = rawReadModifyWrite(work.resolve("raw-rocksdb"), sparse, teacher, examples, rawSeconds, start);
        say(start, "bare RocksDB read-modify-write, %d threads on %d pre-filled stores: %,.0f/s",
                sparse.embeddingShards(), sparse.embeddingShards(), rawRate);
        System.out.printf(Locale.ROOT, "RESULT rows=%d row_updates_per_s=%.0f raw_per_s=%.0f bytes_per_example=%.1f "
                + "examples=%d max_heap_mib=%d%n", rows, pipelineRate, rawRate, bytesPerExample, trained,
                Runtime.getRuntime().maxMemory() >> 20);
        System.exit(0);
    }

    private static void feed(LocalDeployment deployment, SparseTeacher teacher, long examples) {
        try (ExampleFeeder feeder = new ExampleFeeder(deployment.bootstrapServers(),
                deployment.config().topics().examples(), ExampleFormat.CSV)) {
            for (long i = 0; i < examples; i++) {
                feeder.send(teacher.line(i).getBytes(StandardCharsets.UTF_8));
            }
            feeder.flush();
        } catch (Exception e) {
            System.out.println("Feeding failed: " + e);
        }
    }

    /**
     * The physical limit of the row path, as fair as this JVM can make it: one bare RocksDB (default
     * options, WAL off) per embedding shard, each pre-filled with the rows its shard held after the
     * pipeline's {@code filled} records (the same ids, the same row size), then one thread per
     * shard reading, updating (the same optimizers) and writing back its shard's rows of the
     * records that come next, one by one.
     */
    private static double rawReadModifyWrite(Path dir, SparseTraining sparse, SparseTeacher teacher, long filled,
            int seconds, long start) throws Exception {
        RocksDB.loadLibrary();
        EmbeddingTable table = sparse.table();
        int shards = sparse.embeddingShards();
        ExampleDigest one = new ExampleDigest(1, 0x5DEECE66DL, 0x5DEECE66DL);
        RocksDB[] stores = new RocksDB[shards];
        try (Options options = new Options().setCreateIfMissing(true);
                WriteOptions writes = new WriteOptions().setDisableWAL(true)) {
            for (int shard = 0; shard < shards; shard++) {
                Path store = dir.resolve("shard-" + shard);
                Files.createDirectories(store);
                stores[shard] = RocksDB.open(options, store.toString());
            }
            try {
                inParallel(shards, shard -> {
                    try (WriteBatch batch = new WriteBatch()) {
                        for (long index = 0; index < filled; index++) {
                            String[] values = teacher.values(index);
                            for (int s = 0; s < teacher.slots(); s++) {
                                long id = FeatureHash.id("c" + s, values[s]);
                                if (sparse.shardOf(id) == shard) {
                                    batch.put(key(id), new StoredRow(one, table.newRow(id)).encode());
                                }
                            }
                            if (batch.count() >= 10_000) {
                                stores[shard].write(writes, batch);
                                batch.clear();
                            }
                        }
                        stores[shard].write(writes, batch);
                    }
                });
                say(start, "bare RocksDB: %d stores pre-filled with the rows of %,d records", shards, filled);

                float[] gradient = new float[table.lookupWidth()];
                Arrays.fill(gradient, 0.01f);
                AtomicLong operations = new AtomicLong();
                long deadline = System.nanoTime() + seconds * 1_000_000_000L;
                long loopStart = System.nanoTime();
                inParallel(shards, shard -> {
                    long done = 0;
                    for (long index = filled; System.nanoTime() < deadline; index++) {
                        String[] values = teacher.values(index);
                        for (int s = 0; s < teacher.slots(); s++) {
                            long id = FeatureHash.id("c" + s, values[s]);
                            if (sparse.shardOf(id) != shard) {
                                continue;
                            }
                            byte[] key = key(id);
                            byte[] stored = stores[shard].get(key);
                            StoredRow row = stored == null ? new StoredRow(ExampleDigest.EMPTY, table.newRow(id))
                                    : StoredRow.decode(stored, table.storedWidth());
                            table.apply(row.floats(), gradient, 0);
                            stores[shard].put(writes, key, new StoredRow(row.examples().plus(one), row.floats()).encode());
                            done++;
                        }
                    }
                    operations.addAndGet(done);
                });
                return operations.get() / ((System.nanoTime() - loopStart) / 1e9);
            } finally {
                for (RocksDB store : stores) {
                    if (store != null) {
                        store.close();
                    }
                }
            }
        }
    }

    private static byte[] key(long id) {
        return ByteBuffer.allocate(8).putLong(id).array();
    }

    /** Runs {@code work} for 0..n-1 on a thread each and waits for all. */
    private static void inParallel(int n, ShardWork work) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(n);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int shard = i;
                done.add(threads.submit(() -> {
                    work.run(shard);
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private interface ShardWork {
        void run(int shard) throws Exception;
    }

    /** What the job's metrics say, summed over subtasks (Flink's REST API). */
    record Metrics(long trained, long rowsCreated, long rowUpdates, long bytesBetweenWorkersAndShards) {
        static Metrics of(LocalDeployment deployment) throws Exception {
            URI rest = deployment.webUi();
            String job = "/jobs/" + deployment.jobId();
            long trained = 0;
            long created = 0;
            long updates = 0;
            long bytes = 0;
            for (JsonNode vertex : get(rest, job).path("vertices")) {
                String name = vertex.path("name").asText();
                String path = job + "/vertices/" + vertex.path("id").asText() + "/subtasks/metrics";
                trained += sum(rest, path, ".examplesTrained");
                created += sum(rest, path, ".rowsCreated");
                updates += sum(rest, path, ".rowUpdates");
                // Lookups out of the parse stage, rows out of the shards, gradients out of their source:
                // everything that moves between the workers and the row shards.
                if (name.contains("parse-sparse-examples") || name.contains("embedding-shard")
                        || name.contains("Source: embedding-gradients")) {
                    bytes += vertex.path("metrics").path("write-bytes").asLong();
                }
            }
            return new Metrics(trained, created, updates, bytes);
        }

        private static long sum(URI rest, String path, String suffix) throws Exception {
            StringBuilder names = new StringBuilder();
            for (JsonNode metric : get(rest, path)) {
                String id = metric.path("id").asText();
                if (id.endsWith(suffix)) {
                    names.append(names.length() == 0 ? "" : ",").append(id);
                }
            }
            if (names.length() == 0) {
                return 0;
            }
            long total = 0;
            for (JsonNode metric : get(rest, path + "?agg=sum&get=" + names)) {
                total += (long) metric.path("sum").asDouble();
            }
            return total;
        }

        private static JsonNode get(URI rest, String path) throws Exception {
            HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(rest.resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(response.body());
        }
    }

    private static long usedHeapMiB() {
        Runtime runtime = Runtime.getRuntime();
        return (runtime.totalMemory() - runtime.freeMemory()) >> 20;
    }

    private static void say(long start, String format, Object... args) {
        System.out.printf(Locale.ROOT, "  [%5.0f s] " + format + "%n",
                concat((System.nanoTime() - start) / 1e9, args));
    }

    private static Object[] concat(double seconds, Object[] args) {
        Object[] all = new Object[args.length + 1];
        all[0] = seconds;
        System.arraycopy(args, 0, all, 1, args.length);
        return all;
    }
}
