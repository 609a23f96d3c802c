package io.streambelief.deployment.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KustomizationTest {
    private static final String SECRET = """
            apiVersion: v1
            kind: Secret
            metadata:
              name: token
            stringData:
              token: x
            """;

    @TempDir
    Path root;

    @BeforeEach
    void base() throws IOException {
        write("base/secret.yaml", SECRET);
        write("base/kustomization.yaml", "resources:\n  - secret.yaml\n");
    }

    @Test
    void appliesAnOverlaysPatchesToItsBase() throws IOException {
        write("overlay/kustomization.yaml", """
                resources:
                  - ../base
                patches:
                  - target:
                      kind: Secret
                      name: token
                    patch: |-
                      - op: replace
                        path: /stringData/token
                        value: y
                """);

        Manifests manifests = Manifests.load(root, "overlay");

        assertThat(manifests.get("Secret", "token").at("/stringData/token").asText()).isEqualTo("y");
        assertThat(manifests.get("Secret", "token").source())
                .isEqualTo("base/secret.yaml, patched by overlay/kustomization.yaml");
    }

    @Test
    void refusesAResourceThatDoesNotExist() throws IOException {
        write("base/kustomization.yaml", "resources:\n  - secret.yaml\n  - gone.yaml\n");

        assertThatThrownBy(() -> Manifests.load(root, "base"))
                .isInstanceOf(InvalidKustomizationException.class)
                .hasMessageContaining("base/kustomization.yaml lists 'gone.yaml', which does not exist");
    }

    @Test
    void refusesAManifestItDoesNotList() throws IOException {
        write("base/forgotten.yaml", SECRET.replace("name: token", "name: other"));

        assertThatThrownBy(() -> Manifests.load(root, "base"))
                .isInstanceOf(InvalidKustomizationException.class)
                .hasMessageContaining("base/forgotten.yaml is not listed in the resources of base/kustomization.yaml");
    }

    @Test
    void refusesAPatchThatMatchesNothing() throws IOException {
        write("overlay/kustomization.yaml", """
                resources:
                  - ../base
                patches:
                  - target:
                      kind: Secret
                      name: tokn
                    patch: |-
                      - op: remove
                        path: /stringData
                """);

        assertThatThrownBy(() -> Manifests.load(root, "overlay"))
                .isInstanceOf(InvalidKustomizationException.class)
                .hasMessageContaining("matches no resource");
    }

    @Test
    void refusesFieldsItDoesNotApply() throws IOException {
        write("base/kustomization.yaml", "namespace: streambelief\nresources:\n  - secret.yaml\n");

        assertThatThrownBy(() -> Manifests.load(root, "base"))
                .isInstanceOf(InvalidKustomizationException.class)
                .hasMessageContaining("field 'namespace'");
    }

    private void write(String file, String text) throws IOException {
        Path path = root.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }
}
