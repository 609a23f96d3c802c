package io.streambelief.flink;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The training job runs on any Flink cluster from its job jar, which leaves out what only runs the
 * system on one machine (the processes module, the data sets, the feeder): the job must not reach
 * them, nor the model server. The launchers sit in a module above this one, so Maven keeps the job
 * from reaching them.
 *
 * <p>Inside the module the packages form layers, so that each can be read and tested on its own:
 * {@code config} at the bottom, the entry points ({@code TrainingJob}, {@code TrainingJobCommand})
 * alone at the top.
 */
class ModuleBoundariesTest {
    private static final JavaClasses FLINK_JOBS = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.streambelief.flink");

    @Test
    void theJobReachesNothingThatItsJobJarLeavesOut() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("io.streambelief.processes..",
                        "io.streambelief.kafka.data..", "io.streambelief.kafka.feed..", "io.streambelief.serving..")
                .check(FLINK_JOBS);
    }

    @Test
    void thePackagesDependOnEachOtherWithoutCycles() {
        slices().matching("io.streambelief.(**)").should().beFreeOfCycles().check(FLINK_JOBS);
    }

    /** Stronger than no cycles for the root package: it holds the job's entry points, which nothing may reach back to. */
    @Test
    void noPackageReachesBackToTheEntryPoints() {
        noClasses().that().resideOutsideOfPackage("io.streambelief.flink")
                .and().resideInAPackage("io.streambelief.flink..")
                .should().dependOnClassesThat().resideInAPackage("io.streambelief.flink")
                .check(FLINK_JOBS);
    }

    /** Configuration is checked and built before the job exists: it needs nothing of the job. */
    @Test
    void theConfigurationDependsOnNothingElseOfTheJob() {
        noClasses().that().resideInAPackage("io.streambelief.flink.config..")
                .should().dependOnClassesThat(resideInAPackage("io.streambelief.flink..")
                        .and(resideOutsideOfPackage("io.streambelief.flink.config..")))
                .check(FLINK_JOBS);
    }
}
