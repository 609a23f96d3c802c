package io.streambelief.deployment.manifest;

import java.nio.file.Path;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/** The objects a kustomization yields, in the order kubectl would apply them. */
public record Manifests(List<Manifest> all) {

    public Manifests {
        all = List.copyOf(all);
    }

    /**
     * The objects of the kustomization in {@code root/directory}, its overlays' patches applied.
     * Sources are named relative to {@code root}.
     *
     * @throws InvalidKustomizationException for a missing or unlisted file, or a patch that applies to nothing
     */
    public static Manifests load(Path root, String directory) {
        return new Manifests(new Kustomization(root).resolve(root.resolve(directory)));
    }

    public List<Manifest> ofKind(String kind) {
        return all.stream().filter(manifest -> manifest.is(kind)).toList();
    }

    public Optional<Manifest> find(String kind, String name) {
        return all.stream().filter(manifest -> manifest.is(kind) && manifest.name().equals(name)).findFirst();
    }

    public Manifest get(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new NoSuchElementException("No " + kind + "/" + name + " in the manifests"));
    }

    /** A deep copy, for changing documents without touching these. */
    public Manifests copy() {
        return new Manifests(all.stream().map(Manifest::copy).toList());
    }
}
