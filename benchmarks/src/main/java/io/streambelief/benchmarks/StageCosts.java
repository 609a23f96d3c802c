package io.streambelief.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.model.Example;
import io.streambelief.model.parameters.ModelReplica;
import io.streambelief.model.ParameterLayout;
import io.streambelief.model.parameters.ParameterShard;
import io.streambelief.model.compression.ErrorFeedback;
import io.streambelief.model.engine.Dl4jGradientEngine;
import io.streambelief.model.engine.MiniBatch;
import io.streambelief.model.record.GradientSlice;
import io.streambelief.model.record.GradientSliceCodec;
import io.streambelief.model.record.ParamDelta;
import io.streambelief.model.record.ParamDeltaCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What each stage of one push costs on this machine, single-threaded, for the default model and
 * compression: the inputs of the scaling model in docs/benchmarks.md. Real gradients of
 * Fashion-MNIST mini-batches flow through the worker's and the parameter server's code, without
 * Flink or Kafka around them; each stage is timed over many pushes after a warm-up.
 */
@Command(name = "stages", mixinStandardHelpOptions = true,
        description = "Per-push cost of each stage of the training loop (gradient, compression, codec, shard apply, delta).")
public final class StageCosts implements Callable<Integer> {

    @Option(names = "--pushes", paramLabel = "N", defaultValue = "400", description = "Pushes timed. Default: ${DEFAULT-VALUE}.")
    int pushes;

    @Override
    public Integer call() throws Exception {
        TrainingConfig config = TrainingConfig.builder("unused").build();
        ParameterLayout layout = config.layout();
        int batch = config.batchSize();
        List<Example> examples = FashionMnist.read().train().shuffled(1).take((pushes + 100) * batch).examples();
        float[] initial = config.spec().initialParameters();
        ParameterShard[] shards = new ParameterShard[layout.shardCount()];
        for (int s = 0; s < shards.length; s++) {
            shards[s] = ParameterShard.initial(s, layout.slice(initial, s), config.optimizer(), config.averageDecay());
        }
        ModelReplica replica = ModelReplica.initial(initial, layout, config.optimizer(), 0);
        ErrorFeedback feedback = new ErrorFeedback(config.compression(), layout);
        long[] nanos = new long[8];
        long bytesUp = 0;
        long bytesDown = 0;
        try (Dl4jGradientEngine engine = new Dl4jGradientEngine(config.spec())) {
            for (int push = 0; push < pushes + 100; push++) {
                boolean timed = push >= 100;
                long t0 = System.nanoTime();
                engine.setParameters(replica.values());
                MiniBatch.Builder builder = MiniBatch.builder(batch, config.spec().numInputs());
                examples.subList(push * batch, (push + 1) * batch).forEach(builder::add);
                float[] gradient = engine.step(builder.build()).gradient();
                long t1 = System.nanoTime();
                ErrorFeedback.Sent sent = feedback.compress(gradient);
                long t2 = System.nanoTime();
                long sequence = replica.push(sent.values());
                long t3 = System.nanoTime();
                List<byte[]> encoded = new ArrayList<>();
                for (int s = 0; s < shards.length; s++) {
                    encoded.add(GradientSliceCodec.encode(GradientSlice.sparse(s, 0, sequence, shards[s].version(),
                            batch, layout.length(s), sent.indices()[s], sent.entries(layout, s))));
                }
                long t4 = System.nanoTime();
                List<GradientSlice> decoded = new ArrayList<>();
                encoded.forEach(bytes -> decoded.add(GradientSliceCodec.decode(bytes)));
                long t5 = System.nanoTime();
                for (GradientSlice slice : decoded) {
                    shards[slice.shardId()].apply(slice);
                }
                long t6 = System.nanoTime();
                List<byte[]> deltas = new ArrayList<>();
                for (ParameterShard shard : shards) {
                    deltas.add(ParamDeltaCodec.encode(shard.toDelta("m", 0, 50)));
                }
                long t7 = System.nanoTime();
                for (byte[] delta : deltas) {
                    replica.receive(ParamDeltaCodec.decode(delta));
                }
                replica.merge();
                long t8 = System.nanoTime();
                if (timed) {
                    long[] marks = {t0, t1, t2, t3, t4, t5, t6, t7, t8};
                    for (int i = 0; i < 8; i++) {
                        nanos[i] += marks[i + 1] - marks[i];
                    }
                    bytesUp += encoded.stream().mapToLong(b -> b.length).sum();
                    bytesDown += deltas.stream().mapToLong(b -> b.length).sum();
                }
            }
        }
        String[] stages = {"gradient (DL4J, batch " + batch + ")", "compress (top-k, bfloat16, residual)",
            "replica applies own push", "encode slices", "decode slices", "shards apply (" + config.optimizer() + ")",
            "shards make deltas (encode)", "replica takes deltas in, merges"};
        System.out.printf(Locale.ROOT, "Stage costs per push of %d examples, %s, %d shards, %s; mean of %d "
                + "pushes after 100 warm-up pushes, one thread:%n", batch, config.spec().source(), shards.length,
                config.compression(), pushes);
        for (int i = 0; i < stages.length; i++) {
            System.out.printf(Locale.ROOT, "  %-40s %8.3f ms/push %7.2f us/example%n", stages[i], nanos[i] / 1e6 / pushes,
                    nanos[i] / 1e3 / pushes / batch);
        }
        System.out.printf(Locale.ROOT, "  bytes per push: %,.0f up (slices), %,.0f down (one delta per shard after "
                + "each push: an upper bound, a delta covers every push of a publish interval)%n",
                (double) bytesUp / pushes, (double) bytesDown / pushes);
        return 0;
    }
}
