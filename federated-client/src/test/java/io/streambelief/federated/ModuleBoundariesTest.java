package io.streambelief.federated;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * A federated client is embedded in other people's processes — a hospital's service, a phone's
 * app: it carries model-state and kafka-clients, nothing of the server side.
 */
class ModuleBoundariesTest {
    private static final JavaClasses CLIENT = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.federated");

    @Test
    void theClientKnowsNeitherFlinkNorTheJobNorTheServerNorTheDataSets() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "io.streambelief.flink..",
                "io.streambelief.serving..", "io.streambelief.kafka..", "io.streambelief.processes..").check(CLIENT);
    }
}
