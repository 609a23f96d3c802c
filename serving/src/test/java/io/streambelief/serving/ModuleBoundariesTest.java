package io.streambelief.serving;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

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
}
