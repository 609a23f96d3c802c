package io.streambelief.launcher;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/** The two launchers share what they have in common through their own package, never through each other. */
class ModuleBoundariesTest {
    private static final JavaClasses LAUNCHER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.launcher");

    /** Each package is a slice of its own, the root included, so a cycle anywhere in the module shows. */
    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("io.streambelief.(**)").should().beFreeOfCycles().check(LAUNCHER);
    }
}
