package io.streambelief.deployment.manifest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.streambelief.flink.config.TrainingConfig;
import io.streambelief.serving.ModelServer;
import picocli.CommandLine;

/**
 * The model server runs with options its own parser takes, reads what the job writes, listens where
 * its container ports, probes and scrape annotations say, and keeps its state on a volume.
 */
final class ModelServerCheck implements Check {
    static final String IMAGE = "streambelief/model-server";
    private static final String TOKEN_VARIABLE = "STREAMBELIEF_AUTH_TOKEN";

    @Override
    public List<Problem> problemsIn(Manifests manifests) {
        List<Problem> problems = new ArrayList<>();
        boolean found = false;
        for (Manifest manifest : manifests.ofKind("Deployment")) {
            Deployment deployment = manifest.as(Deployment.class);
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            for (Container container : pod.getContainers()) {
                if (Objects.toString(container.getImage(), "").startsWith(IMAGE + ":")) {
                    found = true;
                    problems.addAll(new Server(manifest, deployment, container, manifests).problems());
                }
            }
        }
        if (!found) {
            problems.add(new Problem("-", "Deployment", "no Deployment runs " + IMAGE + ": nothing serves the model"));
        }
        return problems;
    }

    private static final class Server {
        private final Manifest manifest;
        private final Deployment deployment;
        private final Container container;
        private final Manifests manifests;
        private final List<Problem> problems = new ArrayList<>();

        Server(Manifest manifest, Deployment deployment, Container container, Manifests manifests) {
            this.manifest = manifest;
            this.deployment = deployment;
            this.container = container;
            this.manifests = manifests;
        }

        List<Problem> problems() {
            List<String> args = container.getArgs() == null ? List.of() : container.getArgs();
            ModelServer.Arguments arguments;
            try {
                arguments = ModelServer.argumentsOf(args.toArray(String[]::new));
            } catch (CommandLine.ParameterException | IllegalArgumentException e) {
                problem("container " + container.getName() + ": args " + args + " are refused by the server: " + e.getMessage());
                return problems;
            }
            feed(arguments);
            listening(arguments.settings());
            stateDirectory(arguments.stateDir());
            authToken(args);
            Boolean nonRoot = deployment.getSpec().getTemplate().getSpec().getSecurityContext() == null ? null
                    : deployment.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot();
            if (!Boolean.TRUE.equals(nonRoot)) {
                problem("the pod does not set runAsNonRoot: true");
            }
            return problems;
        }

        private void feed(ModelServer.Arguments arguments) {
            KafkaCluster.in(manifests).ifPresent(kafka -> {
                if (!kafka.plainBootstrapServers().contains(arguments.bootstrapServers())) {
                    problem("--bootstrap-servers " + arguments.bootstrapServers() + " is none of Kafka/" + kafka.name()
                            + "'s plain listeners " + kafka.plainBootstrapServers());
                }
            });
            for (Manifest job : manifests.ofKind("FlinkDeployment")) {
                Optional<TrainingConfig> config = TrainingJobManifest.config(job);
                if (config.isEmpty()) {
                    continue;
                }
                var topics = config.get().topics();
                sameTopic("--params-topic", arguments.paramsTopic(), job, topics.modelParams());
                sameTopic("--snapshots-topic", arguments.snapshotsTopic(), job, topics.modelSnapshots());
                sameTopic("--metrics-topic", arguments.metricsTopic(), job, topics.trainingMetrics());
                sameTopic("--embedding-rows-topic", arguments.rowsTopic(), job, topics.embeddingRows());
                if (!config.get().bootstrapServers().equals(arguments.bootstrapServers())) {
                    problem("--bootstrap-servers " + arguments.bootstrapServers() + ", but " + job.id() + " writes to "
                            + config.get().bootstrapServers());
                }
            }
        }

        private void sameTopic(String option, String read, Manifest job, String written) {
            if (!read.equals(written)) {
                problem(option + " " + read + ", but " + job.id() + " writes " + written);
            }
        }

        private void listening(ModelServer.Settings settings) {
            if (settings.host().equals("127.0.0.1") || settings.host().equals("localhost")) {
                problem("--host " + settings.host() + ": only the pod itself could reach the server");
            }
            Map<String, Integer> ports = new HashMap<>();
            for (ContainerPort port : container.getPorts() == null ? List.<ContainerPort>of() : container.getPorts()) {
                ports.put(port.getName(), port.getContainerPort());
            }
            containerPort("http", settings.port(), ports);
            if (settings.grpcPort() > 0) {
                containerPort("grpc", settings.grpcPort(), ports);
            }
            probe("readinessProbe", container.getReadinessProbe(), settings.port());
            probe("livenessProbe", container.getLivenessProbe(), settings.port());
            Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
            annotations = annotations == null ? Map.of() : annotations;
            expect(annotations, "prometheus.io/scrape", "true");
            expect(annotations, "prometheus.io/port", Integer.toString(settings.port()));
            expect(annotations, "prometheus.io/path", "/metrics");
        }

        private void containerPort(String name, int port, Map<String, Integer> ports) {
            if (!Objects.equals(ports.get(name), port)) {
                problem("container port '" + name + "' is " + ports.get(name) + ", the server listens on " + port);
            }
        }

        private void probe(String kind, Probe probe, int port) {
            HTTPGetAction get = probe == null ? null : probe.getHttpGet();
            if (get == null) {
                problem(kind + " is not an httpGet of /healthz");
                return;
            }
            IntOrString target = get.getPort();
            boolean onHttp = target != null && ("http".equals(target.getStrVal()) || Objects.equals(target.getIntVal(), port));
            if (!"/healthz".equals(get.getPath()) || !onHttp) {
                problem(kind + " gets " + get.getPath() + " on port " + (target == null ? null : target.getValue())
                        + ", not /healthz on http (" + port + ")");
            }
        }

        private void expect(Map<String, String> annotations, String key, String value) {
            if (!value.equals(annotations.get(key))) {
                problem("pod annotation " + key + " is " + annotations.get(key) + ", not " + value);
            }
        }

        /** The server keeps sparse models' rows beside the state directory ({@code <dir>-rows}), so the volume must hold its parent. */
        private void stateDirectory(String stateDir) {
            if (stateDir == null || stateDir.isBlank()) {
                return;
            }
            Path dir = Path.of(stateDir);
            if (!dir.isAbsolute()) {
                problem("--state-dir " + stateDir + " is relative: it would land in the image's working directory");
                return;
            }
            boolean onVolume = false;
            for (VolumeMount mount : container.getVolumeMounts() == null ? List.<VolumeMount>of() : container.getVolumeMounts()) {
                onVolume |= dir.getParent().startsWith(Path.of(mount.getMountPath())) && !Boolean.TRUE.equals(mount.getReadOnly());
            }
            if (!onVolume) {
                problem("--state-dir " + stateDir + " and its sibling " + stateDir + "-rows are on no writable volumeMount");
            }
        }

        private void authToken(List<String> args) {
            if (args.stream().anyMatch(arg -> arg.startsWith("--auth-token"))) {
                problem("--auth-token on the command line shows the token to anyone who can list pods; use "
                        + TOKEN_VARIABLE + " from a Secret");
            }
            boolean fromSecret = container.getEnv() != null && container.getEnv().stream()
                    .filter(env -> env.getName().equals(TOKEN_VARIABLE))
                    .map(EnvVar::getValueFrom)
                    .anyMatch(source -> source != null && source.getSecretKeyRef() != null);
            if (!fromSecret) {
                problem(TOKEN_VARIABLE + " is not taken from a Secret: the server would answer anyone");
            }
        }

        private void problem(String message) {
            problems.add(Problem.in(manifest, message));
        }
    }
}
