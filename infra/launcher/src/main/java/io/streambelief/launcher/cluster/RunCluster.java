package io.streambelief.launcher.cluster;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.apache.flink.api.common.JobID;

import io.streambelief.flink.TrainingJobCommand;
import io.streambelief.processes.ProjectHome;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code infra/flink-cluster}: runs a standalone Flink cluster on this machine until stopped, and
 * submits the training job's jar to it.
 */
@Command(name = "flink-cluster", mixinStandardHelpOptions = true,
        subcommands = {RunCluster.Run.class, RunCluster.Submit.class},
        description = "A standalone Flink cluster on this machine (JobManager and TaskManagers as separate JVMs).")
public final class RunCluster {
    private RunCluster() {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new RunCluster()).execute(args));
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Starts the cluster and keeps it running until this process gets SIGTERM or Ctrl-C.")
    static final class Run implements Callable<Integer> {
        @Option(names = "--task-managers", paramLabel = "N", defaultValue = "2",
                description = "TaskManager processes. Default: ${DEFAULT-VALUE}.")
        int taskManagers;

        @Option(names = "--slots", paramLabel = "S", defaultValue = "2",
                description = "Task slots per TaskManager. Default: ${DEFAULT-VALUE}.")
        int slots;

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "8081",
                description = "Port of the Web UI and REST API on 127.0.0.1. Default: ${DEFAULT-VALUE}.")
        int port;

        @Option(names = "--task-manager-memory", paramLabel = "SIZE", defaultValue = "1536m",
                description = "Process memory of each TaskManager. Default: ${DEFAULT-VALUE}.")
        String taskManagerMemory;

        @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "work/flink-cluster",
                description = "Configuration, logs, checkpoints. Default: ${DEFAULT-VALUE}.")
        Path workDir;

        @Override
        public Integer call() throws Exception {
            System.out.printf("Starting a Flink cluster: 1 JobManager, %d TaskManagers with %d slots (work dir %s)%n",
                    taskManagers, slots, workDir);
            StandaloneCluster cluster = StandaloneCluster.builder(workDir).taskManagers(taskManagers)
                    .slotsPerTaskManager(slots).restPort(port).taskManagerMemory(taskManagerMemory).start();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                cluster.close();
                stopped.countDown();
            }, "stop-flink-cluster"));
            URI web = cluster.restAddress();
            // The start script waits for this file: its presence means "ready".
            Files.writeString(cluster.workDir().resolve("rest-address"), web + "\n", StandardCharsets.UTF_8);
            System.out.println();
            System.out.println("Flink Web UI and REST API: " + web);
            System.out.println("Logs: " + cluster.workDir().resolve("logs"));
            System.out.println("Submit the training job (Kafka topics are created if missing):");
            System.out.println("  infra/flink-cluster submit --bootstrap-servers HOST:PORT [training options, as ./run-local's]");
            System.out.println("  or: flink run -m " + web.getAuthority() + " " + StandaloneCluster.JOB_JAR
                    + " --bootstrap-servers HOST:PORT");
            System.out.println("  or: curl -F jarfile=@" + StandaloneCluster.JOB_JAR + " " + web + "/jars/upload, then "
                    + "POST " + web + "/jars/<id>/run with {\"programArgsList\": [\"--bootstrap-servers\", \"HOST:PORT\"]}");
            System.out.println("Stop: infra/flink-cluster stop");
            System.out.flush();
            stopped.await();
            return 0;
        }
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Uploads the job jar to a running cluster and starts the training job with the given options "
                    + "(those of ./run-local's job, plus --bootstrap-servers).")
    static final class Submit implements Callable<Integer> {
        @Option(names = "--rest", paramLabel = "URL", defaultValue = "http://127.0.0.1:8081",
                description = "The cluster's REST API. Default: ${DEFAULT-VALUE}.")
        URI rest;

        @Option(names = "--jar", paramLabel = "PATH", description = "The job jar. Default: " + StandaloneCluster.JOB_JAR
                + " of this checkout.")
        Path jar;

        @Parameters(paramLabel = "JOB-OPTIONS", description = "Options of the training job, e.g. --bootstrap-servers "
                + "127.0.0.1:9092 --workers 2 (put -- before them).")
        List<String> jobOptions = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            Path jobJar = jar != null ? jar : ProjectHome.buildOutput(StandaloneCluster.JOB_JAR, "The job jar");
            ClusterRestApi api = new ClusterRestApi(rest);
            System.out.println("Uploading " + jobJar + " to " + rest + " ...");
            JobID job;
            try {
                job = api.runJar(api.uploadJar(jobJar), TrainingJobCommand.class.getName(), jobOptions);
            } catch (IOException e) {
                System.err.println("Submitting the job failed: " + e.getMessage());
                return 1;
            }
            System.out.println("Submitted job " + job + ": " + rest + "/#/job/running/" + job + "/overview");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            String status = api.jobStatus(job);
            while (!status.equals("RUNNING") && System.nanoTime() < deadline) {
                Thread.sleep(500);
                status = api.jobStatus(job);
            }
            System.out.println("Job status: " + status);
            return status.equals("RUNNING") ? 0 : 1;
        }
    }
}
