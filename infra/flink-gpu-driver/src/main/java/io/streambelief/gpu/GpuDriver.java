package io.streambelief.gpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.externalresource.ExternalResourceDriver;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discovers a TaskManager's GPU indexes by running a discovery command once at TaskManager start:
 * a configured script, called as {@code <script> <amount> <args...>} like Flink's own GPU driver
 * calls it, or else {@code nvidia-smi --query-gpu=index --format=csv,noheader}. The command prints
 * the indexes, separated by commas or line breaks; the TaskManager gets the first {@code amount}.
 * Fewer than asked for is an error naming the command and what it printed, so a misconfigured
 * TaskManager fails at start rather than training on the CPU unnoticed.
 */
public final class GpuDriver implements ExternalResourceDriver {
    private static final Logger LOG = LoggerFactory.getLogger(GpuDriver.class);

    /** Same keys as flink-external-resource-gpu, relative to {@code external-resource.gpu.param.}. */
    public static final String SCRIPT_PATH = "discovery-script.path";
    public static final String SCRIPT_ARGS = "discovery-script.args";
    private static final List<String> NVIDIA_SMI = List.of("nvidia-smi", "--query-gpu=index", "--format=csv,noheader");
    private static final long TIMEOUT_SECONDS = 60;

    private final Path script;
    private final List<String> scriptArgs;

    GpuDriver(Path script, List<String> scriptArgs) {
        this.script = script;
        this.scriptArgs = List.copyOf(scriptArgs);
    }

    static GpuDriver fromParameters(Map<String, String> parameters) {
        String path = parameters.get(SCRIPT_PATH);
        String args = parameters.getOrDefault(SCRIPT_ARGS, "").strip();
        Path script = null;
        if (path != null && !path.isBlank()) {
            script = Path.of(path.strip()).toAbsolutePath();
            if (!Files.isRegularFile(script) || !Files.isExecutable(script)) {
                throw new IllegalArgumentException("GPU discovery script " + script
                        + " does not exist or is not executable (external-resource.gpu.param." + SCRIPT_PATH + ")");
            }
        }
        return new GpuDriver(script, args.isEmpty() ? List.of() : List.of(args.split("\\s+")));
    }

    @Override
    public Set<? extends ExternalResourceInfo> retrieveResourceInfo(long amount) throws Exception {
        if (amount <= 0) {
            throw new IllegalArgumentException("external-resource.gpu.amount must be positive, got " + amount);
        }
        List<String> command = new ArrayList<>();
        if (script != null) {
            command.add(script.toString());
            command.add(Long.toString(amount));
            command.addAll(scriptArgs);
        } else {
            command.addAll(NVIDIA_SMI);
        }
        String output = run(command);
        List<String> indexes = parse(output);
        if (indexes.size() < amount) {
            throw new IllegalStateException("This TaskManager declares " + amount + " GPU(s) but " + String.join(" ", command)
                    + " found " + indexes.size() + " (it printed: '" + output.strip() + "')");
        }
        Set<GpuInfo> gpus = new LinkedHashSet<>();
        for (String index : indexes.subList(0, (int) amount)) {
            gpus.add(new GpuInfo(index));
        }
        LOG.info("GPUs of this TaskManager: {} (from {})", indexes.subList(0, (int) amount), command.get(0));
        return gpus;
    }

    /** Indexes separated by commas, whitespace or line breaks, in order, without repeats. */
    static List<String> parse(String output) {
        List<String> indexes = new ArrayList<>();
        for (String token : output.strip().split("[,\\s]+")) {
            if (!token.isEmpty() && !indexes.contains(token)) {
                indexes.add(token);
            }
        }
        return indexes;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("Cannot run GPU discovery " + command.get(0) + ": " + e.getMessage()
                    + (command.get(0).equals("nvidia-smi") ? " (no NVIDIA driver here? or set external-resource.gpu.param."
                            + SCRIPT_PATH + ")" : ""), e);
        }
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("GPU discovery " + command + " did not finish within " + TIMEOUT_SECONDS + " s");
        }
        String output = new String(out, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IOException("GPU discovery " + command + " failed with exit code " + process.exitValue() + ": "
                    + output.strip());
        }
        return output;
    }

    /** One GPU, by the index the discovery gave it. */
    record GpuInfo(String index) implements ExternalResourceInfo {
        @Override
        public Optional<String> getProperty(String key) {
            return "index".equals(key) ? Optional.of(index) : Optional.empty();
        }

        @Override
        public Collection<String> getKeys() {
            return List.of("index");
        }
    }
}
