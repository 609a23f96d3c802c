package io.streambelief.serving;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/** The model server is a process of its own that runs without Flink: it never uses Flink or the job. */
class ModuleBoundariesTest {
    private static final JavaClasses SERVING = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.serving");

    @Test
    void servingUsesNeitherFlinkNorTheJob() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "io.streambelief.flink..")
                .check(SERVING);
    }

    /**
     * Serving's packages, once it has more than one, depend on each other one way only. While it
     * is one package there are no slices to check, which is not a failure.
     */
    @Test
    void servingsPackagesAreFreeOfCycles() {
        slices().matching("io.streambelief.serving.(*)..").should().beFreeOfCycles().allowEmptyShould(true)
                .check(SERVING);
    }
}
