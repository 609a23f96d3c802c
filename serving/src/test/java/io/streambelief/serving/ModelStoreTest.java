package io.streambelief.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.record.ModelDefinition;
import io.streambelief.model.record.ModelDefinitionCodec;
import io.streambelief.model.record.ModelIds;
import io.streambelief.model.record.ParamUpdate;
import io.streambelief.model.record.ParamUpdateCodec;

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

        ServedModel model = store.get("m").orElseThrow();
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

        ServedModel model = store.get("m").orElseThrow();
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
        ServedModel before = store.get("m").orElseThrow();
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

        ServedModel model = store.get("m").orElseThrow();
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
        ServedModel before = store.get("m").orElseThrow();

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
        assertThat(store.get("m").orElseThrow().predict(new float[][] {{1, 2, 3, 4}})[0])
                .containsExactly(before.predict(new float[][] {{1, 2, 3, 4}})[0]);
    }

    @Test
    void aRedefinedModelStartsAgainFromItsNewInitialValues() {
        define(store, DEFINITION);
        publishShard(store, new ParamUpdate("m", 0, 50, 1_600, 50, ramp(10)));
        store.publish();

        define(store, new ModelDefinition("m", ModelSpec.parse("mlp:4-5-2", 5), 10));
        store.publish();

        ServedModel model = store.get("m").orElseThrow();
        assertThat(model.modelVersion()).isZero();
        assertThat(model.spec().source()).isEqualTo("mlp:4-5-2");
    }

    static void define(ModelStore store, ModelDefinition definition) {
        store.apply(ModelIds.definitionKey(definition.modelId()), ModelDefinitionCodec.encode(definition));
    }

    static void publishShard(ModelStore store, ParamUpdate update) {
        store.apply(ModelIds.shardKey(update.modelId(), update.shardId()), ParamUpdateCodec.encode(update));
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
