package io.streambelief.flink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.InputSelection;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import io.streambelief.flink.ps.ParameterServer;
import io.streambelief.flink.ps.ParameterServerOperator;
import io.streambelief.flink.worker.Worker;
import io.streambelief.model.Example;
import io.streambelief.model.ModelSpec;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.model.engine.NativeArrays;
import io.streambelief.model.optimizer.Optimizer;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.ParamUpdate;

/**
 * Bulk synchronous training is exactly single-process mini-batch SGD with W times the batch: the
 * real Worker and ParameterServer operators, wired by hand (the test plays the network and the
 * model-params topic), against DL4J's own {@code fit} on the same examples.
 */
class BspTest {
    private static final int WORKERS = 2;
    private static final int BATCH = 4;
    private static final int STEPS = 40;
    private static final ModelSpec SPEC = ModelSpec.parse("mlp:6-8-3", 7);
    /** 91 parameters in shards of 32, 32 and 27. */
    private static final TrainingConfig CONFIG = TrainingConfig.builder("unused:9092")
            .modelId("bsp").spec(SPEC).shardSize(32).batchSize(BATCH).workers(WORKERS)
            .mode(TrainingMode.BSP).optimizer(Optimizer.sgd(0.3)).averageDecay(0).build();
    private static final ParameterLayout LAYOUT = CONFIG.layout();

    @Test
    void wWorkersWithBatchBStepLikeOneProcessWithBatchWTimesB() throws Exception {
        List<Example> data = examples(STEPS * WORKERS * BATCH);
        List<TwoInputStreamOperatorTestHarness<Example, ParamUpdate, GradientSlice>> workers = new ArrayList<>();
        List<Worker> operators = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            Worker worker = new Worker(CONFIG);
            var harness = new TwoInputStreamOperatorTestHarness<>(worker, 128, WORKERS, w);
            harness.open();
            operators.add(worker);
            workers.add(harness);
        }
        var server = new KeyedOneInputStreamOperatorTestHarness<>(
                new ParameterServerOperator(new ParameterServer(CONFIG)), CONFIG.shardKeys().selector(), Types.INT);
        server.open();
        float[] served = SPEC.initialParameters();

        feed(workers, data, 0);
        for (int step = 0; step < STEPS; step++) {
            for (var worker : workers) {
                assertThat(worker.extractOutputValues()).as("one slice per shard").hasSize(LAYOUT.shardCount());
                for (GradientSlice slice : worker.extractOutputValues()) {
                    server.processElement(slice, 0);
                }
                worker.getOutput().clear();
            }
            List<ParamUpdate> updates = server.extractOutputValues();
            server.getOutput().clear();
            assertThat(updates).as("every shard stepped once, at once").hasSize(LAYOUT.shardCount());

            if (step + 1 < STEPS) {
                // The next examples arrive before the step's result: the workers hold them.
                feed(workers, data, step + 1);
                for (int w = 0; w < WORKERS; w++) {
                    assertThat(workers.get(w).extractOutputValues()).isEmpty();
                    assertThat(operators.get(w).nextSelection()).isEqualTo(InputSelection.SECOND);
                }
            }
            for (ParamUpdate update : updates) {
                LAYOUT.place(served, update.shardId(), update.values());
                for (var worker : workers) {
                    worker.processElement2(update, 0);
                }
            }
        }

        MultiLayerNetwork plain = Dl4jBaseline.train(SPEC, CONFIG.optimizer(), data, WORKERS * BATCH);
        float[] expected = NativeArrays.copyOut(plain.params());
        for (int i = 0; i < expected.length; i++) {
            assertThat(served[i]).as("parameter %d after %d steps", i, STEPS)
                    .isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-4f));
        }
        assertThat(served).as("training moved the parameters").isNotEqualTo(SPEC.initialParameters());
        server.close();
        for (var worker : workers) {
            worker.close();
        }
    }

    /** Step t of worker w is the w-th part of single-process batch t: the same examples. */
    private static void feed(List<TwoInputStreamOperatorTestHarness<Example, ParamUpdate, GradientSlice>> workers,
            List<Example> data, int step) throws Exception {
        int from = step * WORKERS * BATCH;
        for (int w = 0; w < WORKERS; w++) {
            for (Example example : data.subList(from + w * BATCH, from + (w + 1) * BATCH)) {
                workers.get(w).processElement1(example, 0);
            }
        }
    }

    private static List<Example> examples(int n) {
        Random random = new Random(13);
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] features = new float[SPEC.numInputs()];
            for (int j = 0; j < features.length; j++) {
                features[j] = random.nextFloat();
            }
            examples.add(new Example(features, random.nextInt(3)));
        }
        return examples;
    }
}
