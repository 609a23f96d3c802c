package io.streambelief.flink;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The training job runs on any Flink cluster from its job jar, which leaves out what only runs the
 * system on one machine (the processes module, the data sets, the feeder): the job must not reach
 * them, nor the model server. The launchers sit in a module above this one, so Maven keeps the job
 * from reaching them.
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
}
