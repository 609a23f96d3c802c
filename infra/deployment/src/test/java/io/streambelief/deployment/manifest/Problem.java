package io.streambelief.deployment.manifest;

/**
 * Something wrong in the manifests.
 *
 * @param source the file the resource comes from, and the overlay that patched it if one did
 * @param resource {@code Kind/name}
 */
public record Problem(String source, String resource, String message) {

    static Problem in(Manifest manifest, String message) {
        return new Problem(manifest.source(), manifest.id(), message);
    }

    @Override
    public String toString() {
        return source + ": " + resource + ": " + message;
    }
}
