package io.streambelief.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

import org.apache.flink.api.common.JobID;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.flink.config.Intervals;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.kafka.data.ExampleSet;
import io.streambelief.kafka.data.FashionMnist;
import io.streambelief.kafka.example.ExampleFormat;
import io.streambelief.kafka.feed.ExampleFeeder;
import io.streambelief.launcher.cluster.PublishedShards;
import io.streambelief.launcher.cluster.StandaloneCluster;
import io.streambelief.model.engine.Dl4jBaseline;
import io.streambelief.processes.ProjectHome;
import io.streambelief.processes.broker.KafkaBroker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Recovery from a lost machine: the job jar trains on a standalone cluster of TaskManager
 * processes, and when the model holds a fixed number of examples a TaskManager that runs subtasks
 * of the job (asked of the REST API) is killed with SIGKILL; the cluster's supervisor starts a
 * replacement. Measures how long training is set back, then checks that every example fed was
 * applied exactly once. Plain DL4J's time for the same examples, measured in the same run, gives
 * the scale. A kill that forces no restore of the job is an error, not a result.
 *
 * <p>Each TaskManager has two slots and the job's subtasks are spread over all of them, so each
 * process runs part of the job and the survivors have a spare slot, as a cluster sized for
 * failover has: the restarted job runs on them at once, while the replacement starts for later.
 *
 * <p><b>Recovery time</b> ({@code recovery_s}): from the kill until progress resumes — every shard's
 * latest record on {@code model-params} was published after the job's latest checkpoint restore
 * (REST: {@code latest.restored.restore_timestamp}) and the examples every shard holds have grown
 * since the restored job first published. It includes noticing the failure, the restart delay,
 * redeploying, restoring the last checkpoint and the first mini-batches. <b>Catch-up time</b>
 * (printed too): until the model holds more examples than at the kill (read to the end of the
 * topic right after the kill), which adds retraining the examples after the last checkpoint.
 */
@Command(name = "recovery", mixinStandardHelpOptions = true,
        description = "Time to recover from a TaskManager killed mid-training on a standalone Flink cluster, "
                + "and exactly-once accounting of the examples.")
public final class RecoveryBenchmark implements Callable<Integer> {
    private static final long SEED = 42;
    /** Far beyond any recovery seen (seconds): past it, the kill did not make the job restore and train again. */
    private static final Duration NO_RESTORE_LIMIT = Duration.ofSeconds(120);

    @Option(names = "--examples", paramLabel = "N", defaultValue = "30000",
            description = "Examples fed (the first N of the shuffled Fashion-MNIST training split). Default: ${DEFAULT-VALUE}.")
    int examples;

    @Option(names = "--kill-at", paramLabel = "N", defaultValue = "10000",
            description = "Kill a TaskManager once the model holds this many examples. Default: ${DEFAULT-VALUE}.")
    int killAt;

    @Option(names = "--workers", paramLabel = "W", defaultValue = "2",
            description = "Workers, and TaskManagers of one slot each. Default: ${DEFAULT-VALUE}.")
    int workers;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = Intervals.DEFAULT_CHECKPOINT,
            description = "The job's checkpoint interval (the job's own default). Default: ${DEFAULT-VALUE}.")
    String checkpointInterval;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "benchmarks/target/work/recovery",
            description = "Scratch directory for the broker and the cluster; emptied first. Default: ${DEFAULT-VALUE}.")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        if (killAt <= 0 || killAt >= examples) {
            throw new IllegalArgumentException("--kill-at must be between 0 and --examples (" + examples + ")");
        }
        ExampleSet train = FashionMnist.read().train().shuffled(SEED).take(examples);
        TrainingConfig defaults = TrainingConfig.builder("unused").seed(SEED).workers(workers).build();
        System.out.printf(Locale.ROOT, "Recovery benchmark: %s, %s, batch %d, %,d examples, W=%d on %d TaskManager "
                + "processes of 2 slots, checkpoints every %s, a TaskManager running the job killed at %,d "
                + "examples; %d cores%n",
                defaults.spec().source(), defaults.optimizer(), defaults.batchSize(), examples, workers, workers,
                checkpointInterval, killAt, Runtime.getRuntime().availableProcessors());

        // Plain DL4J on the same examples: warm up outside the timing, then time one pass.
        Dl4jBaseline.train(defaults.spec(), defaults.optimizer(), train.take(Math.min(10_000, examples)).examples(),
                defaults.batchSize());
        long plainStart = System.nanoTime();
        Dl4jBaseline.train(defaults.spec(), defaults.optimizer(), train.examples(), defaults.batchSize());
        double plainSeconds = (System.nanoTime() - plainStart) / 1e9;
        System.out.printf(Locale.ROOT, "plain DL4J fit, 1 process: %,d examples in %.1f s (%,.0f ex/s)%n", examples,
                plainSeconds, examples / plainSeconds);

        Path work = Bench.emptied(workDir);
        Path jobJar = ProjectHome.buildOutput(StandaloneCluster.JOB_JAR, "The job jar");
        long t0 = System.nanoTime();
        try (KafkaBroker broker = KafkaBroker.builder(work.resolve("kafka")).start();
                StandaloneCluster cluster = StandaloneCluster.builder(work.resolve("flink"))
                        .taskManagers(workers).slotsPerTaskManager(2).start()) {
            System.out.printf(Locale.ROOT, "[%5.1f s] broker %s and Flink cluster %s ready (%d TaskManagers)%n",
                    since(t0), broker.bootstrapServers(), cluster.restAddress(), workers);
            TrainingConfig config = TrainingConfig.builder(broker.bootstrapServers()).seed(SEED).workers(workers).build();
            JobID job = cluster.submit(jobJar, TrainingJobCommand.class.getName(), List.of(
                    "--bootstrap-servers", broker.bootstrapServers(), "--workers", Integer.toString(workers),
                    "--seed", Long.toString(SEED), "--checkpoint-interval", checkpointInterval));
            awaitRunning(cluster, job);
            System.out.printf(Locale.ROOT, "[%5.1f s] job %s running; feeding %,d examples%n", since(t0), job, examples);
            Thread feeding = new Thread(() -> {
                try (ExampleFeeder feeder = new ExampleFeeder(broker.bootstrapServers(), config.topics().examples(),
                        ExampleFormat.BINARY)) {
                    feeder.feed(train.examples(), 1, n -> {});
                } catch (Exception e) {
                    throw new IllegalStateException("Feeding failed", e);
                }
            }, "feeder");
            feeding.start();

            Measurement m = follow(cluster, job, config, t0);
            feeding.join();
            if (Double.isNaN(m.resumedSeconds())) {
                System.out.printf(Locale.ROOT, "%nrecovery benchmark failed: %s; failures in the job's history: %d, "
                        + "checkpoint restores: %d, TaskManagers that ended unasked: %s (logs in %s)%n",
                        m.appliedAtKill() < 0 ? "training never reached --kill-at, so nothing was killed"
                                : "the job did not train again after the kill",
                        cluster.rest().failures(job).size(), cluster.rest().checkpoints(job).restored(),
                        cluster.unexpectedExits(), cluster.workDir().resolve("logs"));
                return 1;
            }
            long lost = Math.max(0, examples - m.minApplied());
            long duplicated = Math.max(0, m.maxApplied() - examples);
            System.out.println();
            System.out.printf(Locale.ROOT, "Killed a TaskManager with %,d examples in the model; the restored job "
                    + "started from about %,d (its last checkpoint), trained again %.1f s after the kill and passed "
                    + "%,d again after %.1f s; failures in the job's history: %d, checkpoint restores: %d%n",
                    m.appliedAtKill(), m.lowestAfterRestore(), m.resumedSeconds(), m.appliedAtKill(),
                    m.caughtUpSeconds(), cluster.rest().failures(job).size(), cluster.rest().checkpoints(job).restored());
            System.out.printf(Locale.ROOT, "Pipeline trained all %,d examples %.1f s after the first was fed; plain DL4J "
                    + "needs %.1f s for them (recovery took %.2fx, catching up %.2fx plain DL4J's whole training time)%n",
                    examples, m.trainedSeconds(), plainSeconds, m.resumedSeconds() / plainSeconds,
                    m.caughtUpSeconds() / plainSeconds);
            System.out.printf(Locale.ROOT, "Shards: examples applied min %,d max %,d, fed %,d%n", m.minApplied(),
                    m.maxApplied(), examples);
            System.out.printf(Locale.ROOT, "lost=%d duplicated=%d recovery_s=%.1f%n", lost, duplicated,
                    m.resumedSeconds());
            return lost == 0 && duplicated == 0 ? 0 : 1;
        }
    }

    /**
     * @param appliedAtKill examples every shard held when the TaskManager was killed
     * @param lowestAfterRestore the fewest examples the restored job's shards were first seen with:
     *     about the restored checkpoint's count
     * @param resumedSeconds from the kill until the restored job trains again: every shard has
     *     published since the restore, and the examples they all hold have grown since first seen
     * @param caughtUpSeconds from the kill until every shard held more than {@code appliedAtKill}:
     *     also the examples since the last checkpoint trained again
     * @param trainedSeconds from the start of feeding until every shard held every example (or the end)
     */
    private record Measurement(long appliedAtKill, long lowestAfterRestore, double resumedSeconds,
            double caughtUpSeconds, double trainedSeconds,
            long minApplied, long maxApplied) {}

    private Measurement follow(StandaloneCluster cluster, JobID job, TrainingConfig config, long t0) throws Exception {
        long feedStart = System.nanoTime();
        long killNanos = 0;
        long killMillis = 0;
        long appliedAtKill = -1;
        long lowestAfterRestore = Long.MAX_VALUE;
        double resumedSeconds = Double.NaN;
        double caughtUpSeconds = Double.NaN;
        long lastReport = 0;
        long lastChange = System.nanoTime();
        long lastMin = -1;
        try (PublishedShards shards = new PublishedShards(config.bootstrapServers(), config.topics().modelParams(),
                config.modelId(), config.layout().shardCount())) {
            while (true) {
                PublishedShards.Progress p = shards.poll(Duration.ofMillis(100));
                long now = System.nanoTime();
                if (appliedAtKill < 0 && p.minApplied() >= killAt) {
                    killNanos = System.nanoTime();
                    killMillis = System.currentTimeMillis();
                    StandaloneCluster.KilledTaskManager killed = cluster.killTaskManagerRunning(job);
                    // What the killed process published before it died is all in the topic now.
                    appliedAtKill = shards.catchUp().minApplied();
                    System.out.printf(Locale.ROOT, "[%5.1f s] killed %s (pid %d, SIGKILL), which ran subtasks of the "
                            + "job, with %,d examples in the model; the supervisor starts a replacement%n", since(t0),
                            killed.resourceId(), killed.pid(), appliedAtKill);
                } else if (appliedAtKill >= 0 && Double.isNaN(caughtUpSeconds)) {
                    long restored = cluster.rest().checkpoints(job).lastRestoreMillis();
                    OptionalLong sinceRestore = restored > killMillis ? shards.minAppliedSince(restored)
                            : OptionalLong.empty();
                    if (sinceRestore.isPresent()) {
                        lowestAfterRestore = Math.min(lowestAfterRestore, sinceRestore.getAsLong());
                        if (Double.isNaN(resumedSeconds) && sinceRestore.getAsLong() > lowestAfterRestore) {
                            resumedSeconds = (now - killNanos) / 1e9;
                            System.out.printf(Locale.ROOT, "[%5.1f s] resumed: the restored job trains again (its "
                                    + "model went from %,d to %,d examples), %.1f s after the kill%n", since(t0),
                                    lowestAfterRestore, sinceRestore.getAsLong(), resumedSeconds);
                        }
                        if (sinceRestore.getAsLong() > appliedAtKill) {
                            caughtUpSeconds = (now - killNanos) / 1e9;
                            System.out.printf(Locale.ROOT, "[%5.1f s] recovered: the restored job's model holds %,d "
                                    + "examples, more than at the kill, %.1f s after it%n", since(t0),
                                    sinceRestore.getAsLong(), caughtUpSeconds);
                        }
                    }
                }
                if (p.minApplied() != lastMin) {
                    lastMin = p.minApplied();
                    lastChange = now;
                }
                if (now - lastReport > 2_000_000_000L) {
                    lastReport = now;
                    System.out.printf(Locale.ROOT, "[%5.1f s] trained %,d of %,d (shards %,d..%,d) | job %s | "
                            + "checkpoints %d%n", since(t0), p.minApplied(), examples, p.minApplied(), p.maxApplied(),
                            cluster.rest().jobStatus(job), cluster.rest().checkpoints(job).completed());
                }
                boolean done = p.minApplied() >= examples && !Double.isNaN(caughtUpSeconds);
                boolean noRestore = appliedAtKill >= 0 && Double.isNaN(resumedSeconds)
                        && now - killNanos > NO_RESTORE_LIMIT.toNanos();
                if (done || noRestore || now - lastChange > Duration.ofMinutes(3).toNanos()) {
                    if (noRestore) {
                        System.out.printf(Locale.ROOT, "[%5.1f s] the job has not trained again %d s after the kill; "
                                + "stopping%n", since(t0), NO_RESTORE_LIMIT.toSeconds());
                    } else if (!done) {
                        System.out.printf(Locale.ROOT, "[%5.1f s] no progress for 3 minutes; stopping%n", since(t0));
                    }
                    return new Measurement(appliedAtKill, lowestAfterRestore == Long.MAX_VALUE ? -1 : lowestAfterRestore,
                            resumedSeconds, caughtUpSeconds, (now - feedStart) / 1e9, p.minApplied(), p.maxApplied());
                }
            }
        }
    }

    private static void awaitRunning(StandaloneCluster cluster, JobID job) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        String status;
        while (!(status = cluster.rest().jobStatus(job)).equals("RUNNING")) {
            if (System.nanoTime() > deadline || status.equals("FAILED")) {
                throw new IllegalStateException("The job did not start (status " + status + "; logs in "
                        + cluster.workDir().resolve("logs") + ")");
            }
            Thread.sleep(200);
        }
    }

    private static double since(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
