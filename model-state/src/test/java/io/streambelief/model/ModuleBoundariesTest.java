package io.streambelief.model;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * model-state is the mathematics and the wire formats, which the job and the model server share:
 * it knows neither Flink nor Kafka nor any module above it.
 */
class ModuleBoundariesTest {
    private static final JavaClasses MODEL_STATE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.model");

    @Test
    void modelStateUsesNeitherFlinkNorKafkaNorTheModulesAboveIt() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "org.apache.kafka..",
                "io.streambelief.kafka..", "io.streambelief.flink..", "io.streambelief.serving..")
                .check(MODEL_STATE);
    }

    /** Each package is a slice of its own, the root included, so a cycle anywhere in the module shows. */
    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("io.streambelief.(**)").should().beFreeOfCycles().check(MODEL_STATE);
    }
}
