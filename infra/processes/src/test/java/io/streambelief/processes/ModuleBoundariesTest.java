package io.streambelief.processes;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * Starting, watching and stopping processes is plumbing below every module that runs something
 * (the data step's checkout lookup, the model server's watchdog, the launchers): it knows none of
 * them, nor Flink.
 */
class ModuleBoundariesTest {
    private static final JavaClasses PROCESSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.processes");

    @Test
    void processesKnowNeitherFlinkNorTheModulesThatUseThem() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "io.streambelief.model..",
                        "io.streambelief.kafka..", "io.streambelief.flink..", "io.streambelief.serving..",
                        "io.streambelief.launcher..")
                .check(PROCESSES);
    }

    /** Each package is a slice of its own, the root included, so a cycle anywhere in the module shows. */
    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("io.streambelief.(**)").should().beFreeOfCycles().check(PROCESSES);
    }
}
