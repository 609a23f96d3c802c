package io.streambelief.flink;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The training job runs on any Flink cluster: nothing of it reaches the launchers that start a
 * local deployment or a standalone cluster, nor the model server.
 */
class ModuleBoundariesTest {
    private static final JavaClasses FLINK_JOBS = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.flink");

    @Test
    void theJobReachesNeitherTheLaunchersNorTheModelServer() {
        noClasses().that().resideOutsideOfPackages("io.streambelief.flink.local..", "io.streambelief.flink.cluster..")
                .should().dependOnClassesThat().resideInAnyPackage("io.streambelief.flink.local..",
                        "io.streambelief.flink.cluster..", "io.streambelief.serving..")
                .check(FLINK_JOBS);
    }
}
