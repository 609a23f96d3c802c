package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import io.streambelief.kafka.sparse.FeatureSchema;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ModelSnapshot;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;
import io.streambelief.model.record.SnapshotManifest;
import io.streambelief.model.sparse.EmbeddingTable;
import io.streambelief.model.sparse.RowOptimizer;
import io.streambelief.model.sparse.SparseDefinition;
import io.streambelief.model.sparse.WideDeepSpec;

class ModelStoreTest {
    /** 4 inputs, 3 hidden, 2 outputs: 23 parameters in shards of 10, 10 and 3. */
    static final ModelSpec SPEC = ModelSpec.parse("mlp:4-3-2", 5);
    static final ModelDefinition DEFINITION = new ModelDefinition("m", SPEC, 10);
    static final ParameterLayout LAYOUT = DEFINITION.layout();

    private final ModelStore store = new ModelStore();

    @Test
    void aModelIsServedFromItsDefinitionWithInitialValuesUntilShardsArrive() {
        define(store, DEFINITION);
        store.publish();

        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        assertThat(model.modelVersion()).isZero();
        assertThat(model.examplesTrained()).isZero();
        assertThat(model.shards()).isEqualTo(3);
        assertThat(model.defaultParameters()).isEqualTo(ServedModel.Parameters.LATEST);
        float[][] input = {{0.1f, 0.2f, 0.3f, 0.4f}};
        assertThat(model.predict(input)[0]).containsExactly(dl4jOutput(SPEC.initialParameters(), input[0]), within());
    }

    @Test
    void shardsAreAssembledIntoTheParametersDl4jWouldUse() {
        float[] parameters = ramp(LAYOUT.numParams());
        define(store, DEFINITION);
        for (int shard = 0; shard < 3; shard++) {
            publishShard(store, new ParamUpdate("m", shard, 10 + shard, 1_000 + shard, 77L * shard,
                    LAYOUT.slice(parameters, shard)));
        }
        store.publish();

        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        assertThat(model.modelVersion()).as("sum of the shards' record timestamps").isEqualTo(231);
        assertThat(model.examplesTrained()).as("examples in every shard").isEqualTo(1_000);
        assertThat(model.updatedAtMillis()).isEqualTo(154);
        float[] row = {1f, -1f, 0.5f, 2f};
        assertThat(model.predict(new float[][] {row})[0]).containsExactly(dl4jOutput(parameters, row), within());
    }

    @Test
    void examplesTrainedCountsOnlyWhatEveryShardHolds() {
        define(store, DEFINITION);
        publishShard(store, new ParamUpdate("m", 0, 1, 500, 0, new float[10]));
        publishShard(store, new ParamUpdate("m", 1, 1, 400, 0, new float[10]));
        store.publish();

        assertThat(store.get("m").orElseThrow().examplesTrained()).as("shard 2 has none yet").isZero();
    }

    @Test
    void shardsThatArriveBeforeTheirDefinitionWaitForIt() {
        publishShard(store, new ParamUpdate("m", 2, 4, 64, 4, new float[] {1, 2, 3}));
        store.publish();
        assertThat(store.get("m")).isEmpty();

        define(store, DEFINITION);
        store.publish();

        assertThat(store.get("m").orElseThrow().modelVersion()).isEqualTo(4);
    }

    @Test
    void readersKeepTheirSnapshotWhileNewRecordsAreApplied() {
        define(store, DEFINITION);
        store.publish();
        DenseModel before = (DenseModel) store.get("m").orElseThrow();
        float[][] input = {{1, 1, 1, 1}};
        float[] predictionBefore = before.predict(input)[0];

        publishShard(store, new ParamUpdate("m", 0, 9, 32, 9, ramp(10)));
        assertThat(store.get("m").orElseThrow()).as("nothing swapped before publish").isSameAs(before);
        store.publish();

        assertThat(store.get("m").orElseThrow().modelVersion()).isEqualTo(9);
        assertThat(before.modelVersion()).isZero();
        assertThat(before.predict(input)[0]).containsExactly(predictionBefore);
        assertThat(store.swaps()).isEqualTo(2);
    }

    @Test
    void requestsGetTheAveragedParametersWhenTheJobKeepsThem() {
        float[] latest = ramp(LAYOUT.numParams());
        float[] average = new float[LAYOUT.numParams()];
        Arrays.fill(average, 0.01f);
        define(store, DEFINITION);
        for (int shard = 0; shard < 3; shard++) {
            publishShard(store, new ParamUpdate("m", shard, 1, 1, 0, LAYOUT.slice(latest, shard), new float[0][],
                    new long[0], LAYOUT.slice(average, shard)));
        }
        store.publish();

        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        float[] row = {1f, 2f, 3f, 4f};
        assertThat(model.defaultParameters()).isEqualTo(ServedModel.Parameters.AVERAGE);
        assertThat(model.predict(new float[][] {row})[0]).containsExactly(dl4jOutput(average, row), within());
        assertThat(model.predict(new float[][] {row}, ServedModel.Parameters.LATEST)[0])
                .containsExactly(dl4jOutput(latest, row), within());
    }

    @Test
    void unusableRecordsAreSkippedAndCountedWithoutDisturbingTheModel() {
        define(store, DEFINITION);
        store.publish();
        DenseModel before = (DenseModel) store.get("m").orElseThrow();

        store.apply("m/0", "not a record".getBytes(StandardCharsets.UTF_8));
        store.apply("nokey", ParamUpdateCodec.encode(new ParamUpdate("m", 0, 1, 1, 0, new float[10])));
        store.apply("m/0", ParamUpdateCodec.encode(new ParamUpdate("other", 0, 1, 1, 0, new float[10])));
        store.apply(null, new byte[] {1});
        store.apply("m/spec", new byte[] {1, 2, 3});
        store.apply("m/1", ParamUpdateCodec.encode(new ParamUpdate("m", 1, 1, 1, 0, new float[7])));
        store.apply("m/7", ParamUpdateCodec.encode(new ParamUpdate("m", 7, 1, 1, 0, new float[10])));
        store.publish();

        assertThat(store.skippedRecords()).isEqualTo(7);
        assertThat(store.get("m").orElseThrow().modelVersion()).as("shapes that do not fit are dropped").isZero();
        assertThat(((DenseModel) store.get("m").orElseThrow()).predict(new float[][] {{1, 2, 3, 4}})[0])
                .containsExactly(before.predict(new float[][] {{1, 2, 3, 4}})[0]);
    }

    @Test
    void aRedefinedModelStartsAgainFromItsNewInitialValues() {
        define(store, DEFINITION);
        publishShard(store, new ParamUpdate("m", 0, 50, 1_600, 50, ramp(10)));
        store.publish();

        define(store, new ModelDefinition("m", ModelSpec.parse("mlp:4-5-2", 5), 10));
        store.publish();

        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        assertThat(model.modelVersion()).isZero();
        assertThat(model.spec().source()).isEqualTo("mlp:4-5-2");
    }

    @Test
    void concurrentRequestsOnOneVersionEachGetDl4jsAnswer() throws Exception {
        float[] parameters = ramp(LAYOUT.numParams());
        define(store, DEFINITION);
        for (int shard = 0; shard < 3; shard++) {
            publishShard(store, new ParamUpdate("m", shard, 1, 1, 1 + shard, LAYOUT.slice(parameters, shard)));
        }
        store.publish();
        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        Random random = new Random(3);
        float[][] rows = new float[64][4];
        for (float[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) random.nextGaussian();
            }
        }

        ExecutorService threads = Executors.newFixedThreadPool(8);
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            results.add(threads.submit(() -> {
                for (int i = 0; i < 200; i++) {
                    float[] row = rows[ThreadLocalRandom.current().nextInt(rows.length)];
                    assertThat(model.predict(new float[][] {row})[0]).containsExactly(dl4jOutput(parameters, row),
                            within());
                }
                return 200;
            }));
        }
        int answered = 0;
        for (Future<Integer> result : results) {
            answered += result.get(2, TimeUnit.MINUTES);
        }
        threads.shutdown();

        assertThat(answered).isEqualTo(1_600);
        assertThat(model.latest().networks()).as("networks built: at most one per concurrent request")
                .isBetween(1, 8);
    }

    @Test
    void recordsThatWouldPoisonOrFreezeAShardAreSkippedAndTheShardGoesOn() {
        define(store, DEFINITION);
        long now = System.currentTimeMillis();
        float[] nan = new float[LAYOUT.length(0)];
        nan[3] = Float.NaN;
        float[] infinite = new float[LAYOUT.length(0)];
        infinite[0] = Float.NEGATIVE_INFINITY;
        publishShard(store, new ParamUpdate("m", 0, 1, 32, now - 10, nan));
        publishShard(store, new ParamUpdate("m", 0, 1, 32, now - 9, new float[LAYOUT.length(0)], new float[0][],
                new long[0], infinite));
        // A shard never goes back, so a record stamped in a year would make every later one stale.
        publishShard(store, new ParamUpdate("m", 0, 1, 32, now + 365L * 24 * 3600 * 1000, ramp(LAYOUT.length(0))));
        publishShard(store, new ParamUpdate("m", 0, 1, 32, Long.MAX_VALUE, ramp(LAYOUT.length(0))));
        float[] good = LAYOUT.slice(ramp(LAYOUT.numParams()), 0);
        publishShard(store, new ParamUpdate("m", 0, 2, 64, now, good));
        store.publish();

        assertThat(store.skippedRecords()).isEqualTo(4);
        assertThat(store.staleRecords()).isZero();
        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        assertThat(model.modelVersion()).isEqualTo(now);
        for (float probability : model.predict(new float[][] {{1, 2, 3, 4}})[0]) {
            assertThat(probability).isFinite();
        }
    }

    @Test
    void aDefinitionTooLargeForTheHeapIsSkippedAndTheOtherModelsAreServed() {
        define(store, DEFINITION);
        store.apply(ModelIds.definitionKey("huge"), ModelDefinitionCodec.encode(new ModelDefinition("huge",
                ModelSpec.parse("mlp:30000-30000-10", 1), 1 << 20)));
        store.publish();

        assertThat(store.skippedRecords()).isEqualTo(1);
        assertThat(store.names()).containsExactly("m");
    }

    @Test
    void aShardNeverGoesBackToAnOlderRecord() {
        define(store, DEFINITION);
        float[] newer = ramp(LAYOUT.numParams());
        publishShard(store, new ParamUpdate("m", 0, 7, 700, 2_000, LAYOUT.slice(newer, 0)));
        publishShard(store, new ParamUpdate("m", 0, 5, 500, 1_000, new float[LAYOUT.length(0)]));
        store.publish();

        DenseModel model = (DenseModel) store.get("m").orElseThrow();
        assertThat(model.modelVersion()).isEqualTo(2_000);
        assertThat(store.staleRecords()).isEqualTo(1);
        assertThat(store.skippedRecords()).as("a stale record is not a bad one").isZero();
    }

    @Test
    void inSnapshotModeWholeCheckpointsAreServedAndShardRecordsIgnored() {
        ModelStore snapshots = new ModelStore(ModelStore.Consistency.SNAPSHOT, null);
        float[] parameters = ramp(LAYOUT.numParams());
        snapshots.apply(snapshot(4, 1_000, parameters));
        define(snapshots, DEFINITION);
        publishShard(snapshots, new ParamUpdate("m", 0, 99, 9_000, 5_000, new float[LAYOUT.length(0)]));
        snapshots.publish();

        DenseModel model = (DenseModel) snapshots.get("m").orElseThrow();
        assertThat(model.checkpointId()).as("the snapshot that came before its definition").isEqualTo(4);
        assertThat(model.modelVersion()).isEqualTo(3 * 1_000);
        float[] row = {1f, -1f, 0.5f, 2f};
        assertThat(model.predict(new float[][] {row})[0]).containsExactly(dl4jOutput(parameters, row), within());

        snapshots.apply(snapshot(3, 900, new float[LAYOUT.numParams()]));
        snapshots.publish();
        assertThat(snapshots.get("m").orElseThrow().checkpointId()).as("an older snapshot is dropped").isEqualTo(4);

        snapshots.apply(snapshot(5, 1_100, new float[LAYOUT.numParams()]));
        snapshots.publish();
        assertThat(snapshots.get("m").orElseThrow().checkpointId()).isEqualTo(5);
        assertThat(snapshots.get("m").orElseThrow().modelVersion()).isEqualTo(3 * 1_100);
    }

    /**
     * Served initial values would be no checkpoint's: whether a definition and its first snapshot
     * come in one poll or two must not change what is served.
     */
    @Test
    void inSnapshotModeAModelIsServedOnlyOnceItsFirstSnapshotArrives() {
        ModelStore snapshots = new ModelStore(ModelStore.Consistency.SNAPSHOT, null);
        define(snapshots, DEFINITION);
        snapshots.publish();
        assertThat(snapshots.get("m")).as("a definition without a snapshot").isEmpty();

        snapshots.apply(snapshot(1, 1_000, ramp(LAYOUT.numParams())));
        snapshots.publish();

        assertThat(snapshots.get("m").orElseThrow().checkpointId()).isEqualTo(1);
        assertThat(snapshots.swaps()).isEqualTo(1);
    }

    /** Requests never parse the schema: the store parses it once, with the definition, and every version shares it. */
    @Test
    void aWideDeepModelsSchemaIsParsedOnceWhenTheModelIsDefined() {
        ModelDefinition definition = wideDeep("w", FeatureSchema.load("flights").json());
        define(store, definition);
        store.publish();
        WideDeepModel first = (WideDeepModel) store.get("w").orElseThrow();

        define(store, definition);
        publishShard(store, new ParamUpdate("w", 0, 1, 32, 5, new float[definition.layout().length(0)]));
        store.publish();
        WideDeepModel next = (WideDeepModel) store.get("w").orElseThrow();

        assertThat(next).isNotSameAs(first);
        assertThat(next.modelVersion()).isEqualTo(5);
        assertThat(next.schema()).as("parsed once for the definition").isSameAs(first.schema());
        assertThat(first.schema().columnNames()).isEqualTo(FeatureSchema.load("flights").columnNames());
    }

    /** Such a model's requests could not be read: its definition is skipped, and the rest served. */
    @Test
    void aWideDeepDefinitionWhoseSchemaDoesNotParseIsSkippedAndCounted() {
        define(store, wideDeep("w", "{\"columns\": "));
        define(store, DEFINITION);
        store.publish();

        assertThat(store.skippedRecords()).isEqualTo(1);
        assertThat(store.names()).containsExactly("m");
    }

    /** Model {@code name} on the bundled flights columns, its schema given as {@code schemaJson}. */
    static ModelDefinition wideDeep(String name, String schemaJson) {
        FeatureSchema flights = FeatureSchema.load("flights");
        WideDeepSpec model = WideDeepSpec.parse("widedeep:dim=4,mlp=8");
        EmbeddingTable table = new EmbeddingTable(4, RowOptimizer.parse("ftrl"), RowOptimizer.parse("adagrad"), 3);
        return new ModelDefinition(name, model.denseSpec(flights.slots(), flights.numerics(), 3), 1 << 16,
                new SparseDefinition(flights.source(), schemaJson, model, table));
    }

    @Test
    void aStoreWithALocalCopyServesWhatItHeldBeforeAnyRecordArrives(@TempDir Path dir) {
        float[] parameters = ramp(LAYOUT.numParams());
        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            ModelStore first = new ModelStore(ModelStore.Consistency.LATEST, copy);
            define(first, DEFINITION);
            for (int shard = 0; shard < 3; shard++) {
                publishShard(first, new ParamUpdate("m", shard, 10, 1_000, 500 + shard, LAYOUT.slice(parameters, shard)));
            }
            first.publish();
        }

        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            DenseModel restored = (DenseModel) new ModelStore(ModelStore.Consistency.LATEST, copy).get("m").orElseThrow();
            assertThat(restored.modelVersion()).isEqualTo(500 + 501 + 502);
            assertThat(restored.examplesTrained()).isEqualTo(1_000);
            float[] row = {1f, -1f, 0.5f, 2f};
            assertThat(restored.predict(new float[][] {row})[0]).containsExactly(dl4jOutput(parameters, row), within());
        }
    }

    @Test
    void theLocalCopyIsWrittenAtMostOnceAnIntervalAndWhenTheStoreStops(@TempDir Path dir) {
        long[] nanos = {0};
        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            ModelStore store = new ModelStore(ModelStore.Consistency.LATEST, copy,
                    new PublishGate(PublishGate.Settings.DEFAULTS), () -> nanos[0]);
            define(store, DEFINITION);
            publishAllShards(store, 10, 1_000, 500);
            store.publish();
            nanos[0] += ModelStore.COPY_SAVE_INTERVAL_NANOS - 1;
            publishAllShards(store, 11, 2_000, 600);
            store.publish();
            assertThat(store.get("m").orElseThrow().examplesTrained()).as("served at once").isEqualTo(2_000);
        }
        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            ModelStore restored = new ModelStore(ModelStore.Consistency.LATEST, copy);
            assertThat(restored.get("m").orElseThrow().examplesTrained()).as("saved within the interval")
                    .isEqualTo(1_000);
            publishAllShards(restored, 12, 3_000, 700);
            restored.publish();
            publishAllShards(restored, 13, 4_000, 800);
            restored.publish();
            restored.saveCopy();
        }
        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            assertThat(new ModelStore(ModelStore.Consistency.LATEST, copy).get("m").orElseThrow().examplesTrained())
                    .as("saved when the store stopped").isEqualTo(4_000);
        }
    }

    @Test
    void aRedefinedModelDropsItsOldShardsFromTheLocalCopy(@TempDir Path dir) {
        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            ModelStore first = new ModelStore(ModelStore.Consistency.LATEST, copy);
            define(first, DEFINITION);
            publishShard(first, new ParamUpdate("m", 0, 10, 1_000, 500, LAYOUT.slice(ramp(LAYOUT.numParams()), 0)));
            first.publish();
            define(first, new ModelDefinition("m", ModelSpec.parse("mlp:4-3-2", 6), 10));
            first.publish();
            first.saveCopy();
        }

        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            DenseModel restored = (DenseModel) new ModelStore(ModelStore.Consistency.LATEST, copy).get("m").orElseThrow();
            assertThat(restored.modelVersion()).as("initial values of the new definition").isZero();
            assertThat(restored.spec().seed()).isEqualTo(6);
        }
    }

    @Test
    void aSnapshotStoreRestoresItsCheckpoint(@TempDir Path dir) {
        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            ModelStore first = new ModelStore(ModelStore.Consistency.SNAPSHOT, copy);
            define(first, DEFINITION);
            first.apply(snapshot(8, 1_000, ramp(LAYOUT.numParams())));
            first.publish();
        }

        try (LocalModelCopy copy = LocalModelCopy.open(dir)) {
            DenseModel restored = (DenseModel) new ModelStore(ModelStore.Consistency.SNAPSHOT, copy).get("m").orElseThrow();
            assertThat(restored.checkpointId()).isEqualTo(8);
            assertThat(restored.modelVersion()).isEqualTo(3_000);
        }
    }

    /** A snapshot of model m at {@code checkpointId}: every shard stamped {@code timestamp}. */
    static ModelSnapshot snapshot(long checkpointId, long timestamp, float[] parameters) {
        ParamUpdate[] shards = new ParamUpdate[LAYOUT.shardCount()];
        for (int s = 0; s < shards.length; s++) {
            shards[s] = new ParamUpdate("m", s, checkpointId, 100 * checkpointId, timestamp, LAYOUT.slice(parameters, s));
        }
        return new ModelSnapshot(SnapshotManifest.of(shards, checkpointId, timestamp), shards);
    }

    static void define(ModelStore store, ModelDefinition definition) {
        store.apply(ModelIds.definitionKey(definition.modelId()), ModelDefinitionCodec.encode(definition));
    }

    /** Every shard of model m at {@code version}, holding {@code examples}, with {@link #ramp} values. */
    static void publishAllShards(ModelStore store, long version, long examples, long timestamp) {
        float[] parameters = ramp(LAYOUT.numParams());
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            publishShard(store, new ParamUpdate("m", shard, version, examples, timestamp, LAYOUT.slice(parameters, shard)));
        }
    }

    static void publishShard(ModelStore store, ParamUpdate update) {
        store.apply(ModelIds.shardKey(update.modelId(), update.shardId()), ParamUpdateCodec.encode(update));
    }

    /** A store serving model "m" of {@link #DEFINITION} with {@link #ramp} parameters in every shard. */
    static ModelStore servedStore() {
        ModelStore store = new ModelStore();
        define(store, DEFINITION);
        float[] parameters = ramp(LAYOUT.numParams());
        for (int shard = 0; shard < LAYOUT.shardCount(); shard++) {
            publishShard(store, new ParamUpdate("m", shard, 1, 1, 1, LAYOUT.slice(parameters, shard)));
        }
        store.publish();
        return store;
    }

    static float[] ramp(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (i % 7 - 3) * 0.1f;
        }
        return values;
    }

    /** What DL4J itself answers for these parameters. */
    static float[] dl4jOutput(float[] parameters, float[] row) {
        MultiLayerNetwork network = new MultiLayerNetwork(SPEC.configuration());
        network.init(Nd4j.create(parameters, new long[] {1, parameters.length}, 'c'), true);
        return network.output(Nd4j.create(row, new long[] {1, row.length}, 'c')).toFloatVector();
    }

    static org.assertj.core.data.Offset<Float> within() {
        return org.assertj.core.data.Offset.offset(1e-6f);
    }
}
